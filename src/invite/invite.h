/*
 * invite: invitations, accounts, sign-in and password resets, the heart of
 * invito (DESIGN.md §2 "Invitation rules").
 *
 * Links are 128-bit random, base64url (22 characters), and only their
 * BLAKE2b-256 hash is stored. An invitation and its outbox message are written
 * in one transaction. Acceptance is a conditional update (state='pending'),
 * so two concurrent submissions of one link can never both create the
 * account, on SQLite or PostgreSQL. Nothing here hashes a password: callers
 * hash on the HTTP worker pool and pass the encoded hash in.
 * Nothing here may log a token, a password or a message body.
 *
 * Links in messages are built ONLY from portals.base_url (never from a
 * request): base_url + "/i/" + token. The `cfg` arguments may be NULL.
 * State is computed on read: a pending link whose expires_at <= now is
 * expired (and written 'expired' lazily when touched). Sign-in, resets and
 * sign-up are in invite/account.h.
 */
#ifndef INVITO_INVITE_H
#define INVITO_INVITE_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct config;
struct store_conn;

#define INVITE_TOKEN_CHARS 22 /* 16 bytes, base64url without padding */

enum invite_err {
	INVITE_OK = 0,
	INVITE_ERR = -1,     /* store failure (logged) */
	INVITE_UNKNOWN = -2, /* no such link (or malformed token) */
	INVITE_EXPIRED = -3,
	INVITE_USED = -4,       /* accepted already */
	INVITE_LOCKED = -5,     /* too many wrong family names */
	INVITE_REVOKED = -6,    /* revoked by staff, or another link completed */
	INVITE_WRONG_NAME = -7, /* family name does not match; attempts_left says how many remain */
	INVITE_HAS_ACCOUNT = -8, /* skip reason: already has a password */
	INVITE_FAMILY = -9,      /* skip reason: managed by another patient's account */
	INVITE_NO_CONTACT = -10, /* skip reason: no mobile or e-mail for the channel */
	INVITE_RECENT = -11,     /* skip reason: invited in the last 24 hours */
	INVITE_NOTFOUND = -12,   /* patient not in this organisation */
	INVITE_BUSY = -13,       /* lost a race or the database is busy: try again */
	INVITE_LOGIN_TAKEN =
	    -14, /* the e-mail and mobile on file are both another account's login */
	INVITE_BAD_TARGET = -15, /* target is not a portal path (open redirect refused) */
};
/* English msgid describing the error for a person. */
const char *invite_strerror(int err);

/* --- tokens ------------------------------------------------------------ */

/* A fresh token (NUL-terminated) and its hash. */
void invite_token_new(char token[INVITE_TOKEN_CHARS + 1], unsigned char hash[32]);
/* n fresh tokens and their hashes from ONE call for randomness (a bulk run makes 100,000:
 * one getrandom() each cost more than the hashing). The caller wipes tokens after use. */
void invite_tokens_new(size_t n, char (*tokens)[INVITE_TOKEN_CHARS + 1],
                       unsigned char (*hashes)[32]);
/* Hash of a token from a URL; -1 when it is not 22 base64url characters. */
int invite_token_hash(const char *token, unsigned char hash[32]);

/* --- sending ----------------------------------------------------------- */

struct invite_request {
	int64_t org_id, patient_id;
	int64_t staff_id; /* who invites; 0 for the system (a message, "send me a new link") */
	const char
	    *channel;       /* "sms", "email", "both"; NULL: what the record has (both when both) */
	const char *target; /* portal path ("/..." not "//..."); NULL: portal home; else
	                       INVITE_BAD_TARGET */
	const char *ip;     /* for the audit event; may be NULL */
	int ignore_recent;  /* 1: do not skip patients invited in the last 24 hours */
};

/*
 * Checks eligibility and creates one invitation and its message(s) in the
 * outbox, in the caller's open transaction (store_begin() is the caller's).
 * Returns 0 and *invitation_id, or a skip reason (INVITE_HAS_ACCOUNT,
 * INVITE_FAMILY, INVITE_NO_CONTACT, INVITE_RECENT, INVITE_NOTFOUND) or INVITE_ERR.
 */
int invite_create(struct store_conn *c, const struct config *cfg, const struct invite_request *r,
                  int64_t now, int64_t *invitation_id);
/* invite_create in its own transaction, with the audit event "invite.sent". */
int invite_send(struct store_conn *c, const struct config *cfg, const struct invite_request *r,
                int64_t now, int64_t *invitation_id);

/* An invitation carried inside another message (the TRD92/TRD104/TRD89 link tags): it has
 * no message of its own. portal_id/base_url: the portal to join (a member appointment's
 * portal, which may not be the patient's organisation's). In the caller's transaction;
 * audit "invite.sent" with detail "message:<kind>". Writes the link into *link. */
struct invite_embed_req {
	int64_t org_id, patient_id, portal_id, ttl_days;
	const char *base_url, *channel, *target, *kind;
};
struct buf;
int invite_embed(struct store_conn *c, const struct invite_embed_req *r, int64_t now,
                 struct buf *link, int64_t *invitation_id);

struct invite_bulk_report {
	int invited, has_account, family, no_contact, recent, not_found;
};
/* What invite_bulk would do now (for the confirmation page); writes nothing. */
int invite_bulk_preview(struct store_conn *c, int64_t org_id, const int64_t *ids, size_t n,
                        int64_t now, struct invite_bulk_report *rep);
/*
 * Invites many patients in ONE transaction (all or nothing). ids/n: the
 * selected patients; batch: the form's one-time key, so a second submission of
 * the same form invites nobody twice (it reports the first run's numbers).
 */
int invite_bulk(struct store_conn *c, const struct config *cfg, int64_t org_id, int64_t staff_id,
                const int64_t *ids, size_t n, const char *batch, const char *ip, int64_t now,
                struct invite_bulk_report *rep);

/* Revokes one pending invitation of the organisation (audit "invite.revoked"), in its own
 * transaction. 0, INVITE_NOTFOUND (not this org's), the link's state error, or INVITE_ERR. */
int invite_revoke(struct store_conn *c, int64_t org_id, int64_t invitation_id, int64_t staff_id,
                  const char *ip, int64_t now);

/* One invitation in a patient's history, newest first. */
struct invite_history_row {
	int64_t id, created_at, expires_at, opened_at, accepted_at, revoked_at, locked_at;
	const char *state; /* "pending", "accepted", "expired", "revoked", "locked" (computed) */
	char *channel;     /* "sms", "email", "both" */
	char *staff_name;  /* who sent it; NULL when the system did */
};
/* The invitations of a patient of org_id (at most 100, newest first) into *rows (arena). */
int invite_history(struct store_conn *c, int64_t org_id, int64_t patient_id,
                   struct invite_history_row **rows, int *n, struct arena *a);

/* --- the landing page -------------------------------------------------- */

struct invite_link {
	int64_t invitation_id, patient_id, org_id, portal_id;
	int attempts_left;
	char *target; /* where to land; "/" when none */
	char *portal_name, *policy_text, *policy_version, *patient_lang;
};

/* Looks the link up for GET /i/{token}: 0 when usable (marks it opened), else
 * INVITE_UNKNOWN / EXPIRED / USED / LOCKED / REVOKED. Reveals nothing of the patient. */
int invite_open(struct store_conn *c, const char *token, int64_t now, struct invite_link *out,
                struct arena *a);

/* Checks the family name for POST /i/{token} before any password hashing. 0 when it
 * matches; INVITE_WRONG_NAME with *attempts_left (and INVITE_LOCKED at the limit,
 * with the audit event "invite.locked"), or the link's state error. */
int invite_check_name(struct store_conn *c, const char *token, const char *family_name, int64_t now,
                      const char *ip, int *attempts_left);

/*
 * Completes the link: in one transaction, claims it (only one caller can),
 * creates the account (login: the e-mail, else the mobile on file) with
 * pw_hash, records the privacy consent (policy version, time, ip), revokes the
 * patient's other pending links, writes "invite.accepted". Returns 0 with
 * *account_id and *target (arena), or the link's state error.
 */
int invite_accept(struct store_conn *c, const char *token, const char *family_name,
                  const char *pw_hash, const char *ip, int64_t now, int64_t *account_id,
                  int64_t *patient_id, int64_t *org_id, char **target, struct arena *a);

/* "Send me a new link" from an expired, used or locked link: sends a fresh invitation
 * to the contact on file (or nothing). Always returns 0 unless the store fails:
 * the caller shows the same words either way. */
int invite_resend(struct store_conn *c, const struct config *cfg, const char *token, const char *ip,
                  int64_t now);

#endif
