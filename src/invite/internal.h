/*
 * invite/internal: what invite.c, bulk.c and account.c share and nobody else
 * may use: the sending context of an organisation, eligibility, one
 * invitation with its messages, links from portals.base_url, channels.
 * Nothing here may log a token or a message body.
 */
#ifndef INVITO_INVITE_INTERNAL_H
#define INVITO_INVITE_INTERNAL_H

#include "invite/invite.h"
#include "lib/buf.h"

#include <stdint.h>

struct arena;
struct store_conn;

#define INV_RECENT_SECS 86400 /* "invited in the last 24 hours" */

/* What sending for one organisation needs, read once (a bulk run reads it once). */
struct inv_org {
	int64_t org_id, portal_id, ttl_days, max_attempts;
	char *org_name, *base_url; /* arena */
};
/* INVITE_NOTFOUND when the organisation does not exist. */
/* Serialises invitation writers of one organisation (in the caller's transaction). */
int inv_lock_org(struct store_conn *c, int64_t org_id);
int inv_org_load(struct store_conn *c, int64_t org_id, struct inv_org *out, struct arena *a);

/* A patient as eligibility sees it. Strings are copies into the arena given. */
struct inv_patient {
	int64_t id, org_id, managed_by, last_invited_at;
	int has_password;
	char *given_name, *family_name, *mobile, *email, *lang;
};
/* The columns inv_patient_fill() reads, up to FROM; add a WHERE. */
#define INV_PATIENT_SELECT                                                                         \
	"SELECT p.id, p.org_id, p.managed_by, p.given_name, p.family_name, p.mobile, p.email, "    \
	"p.lang, "                                                                                 \
	"(SELECT COUNT(*) FROM accounts a WHERE a.patient_id = p.id AND a.pw_hash IS NOT NULL), "  \
	"(SELECT COALESCE(MAX(i.created_at), 0) FROM invitations i WHERE i.patient_id = p.id) "    \
	"FROM patients p "
struct store_stmt;
/* Fills p from the current row of an INV_PATIENT_SELECT statement (strings into a). */
void inv_patient_fill(struct store_stmt *s, struct inv_patient *p, struct arena *a);
/* Reads patient id of org_id: 0, INVITE_NOTFOUND or INVITE_ERR. */
int inv_patient_load(struct store_conn *c, int64_t org_id, int64_t id, struct inv_patient *p,
                     struct arena *a);

/*
 * Which channels to use: channel "sms"/"email"/"both"/NULL (what the record
 * has) against the contacts on file. 0 with *sms / *email set, or
 * INVITE_NO_CONTACT. "both" with only one contact uses that one.
 */
int inv_channels(const char *channel, const char *mobile, const char *email, int *sms, int *mail);

/* The skip reason for p (0 when it may be invited now). */
int inv_eligible(const struct inv_patient *p, const char *channel, int ignore_recent, int64_t now);

/* 0 when target is NULL or a portal path ("/x", not "//x", no backslash or control chars). */
int inv_target_ok(const char *target);

/* Appends base_url (without its trailing '/') + path + token to out; out is reset first. */
int inv_link(struct buf *out, const char *base_url, const char *path, const char *token);

/*
 * Writes one invitation for an eligible p and its message(s), in the caller's
 * transaction. scratch/link are work buffers the caller may reuse. 0 and *id,
 * or INVITE_ERR / INVITE_BUSY.
 */
int inv_write(struct store_conn *c, const struct inv_org *o, const struct inv_patient *p,
              const char *channel, const char *target, int64_t staff_id, int64_t now,
              struct buf *link, struct buf *scratch, int64_t *id);

/* account.c/reset.c: portal_id 0 → the first portal's id. 0 or ACCOUNT_ERR. */
int account_portal_resolve(struct store_conn *c, int64_t portal_id, int64_t *out);
/*
 * reset.c: creates a reset link for the account of patient_id and queues it
 * (channel NULL: every contact on file) in its own transaction, with
 * "reset.sent" (detail: why). 0, ACCOUNT_NO_PASSWORD, ACCOUNT_NO_CONTACT,
 * ACCOUNT_RATE_LIMITED or ACCOUNT_ERR.
 */
int account_reset_create(struct store_conn *c, int64_t patient_id, const char *channel,
                         int64_t staff_id, const char *ip, const char *why, int64_t now);

/* store_err to invite_err: BUSY stays BUSY, NOTFOUND stays NOTFOUND, anything else ERR. */
int inv_store_err(int rc);

#endif
