/*
 * account: a patient's credentials on a portal once an invitation is
 * accepted: sign-in lookup and throttling, password-reset links, and self
 * sign-up matching (DESIGN.md §2 "Invitation rules", issue 3).
 *
 * Conventions every caller relies on:
 *  - A patient session is kind STORE_SESSION_PATIENT with user_id = the
 *    PATIENT id (patients.id, as the sessions table says), never the account
 *    id, and org_id = the patient's own organisation (patients.org_id), so
 *    store_patient_get(org_id, user_id) reads the signed-in patient.
 *  - portal_id 0 means "the first portal" (lowest id). Pages pass the
 *    request's portal (http_portal_id(): the portal the Host header picks
 *    among configured portals, src/http/portal_host.c).
 *  - Logins are typed as an e-mail or a mobile number; they are normalised
 *    with src/lib/validate.h (e-mail lower-cased, mobile to E.164) before any
 *    lookup. A login matches accounts.login, or else the e-mail or mobile on
 *    file of exactly one patient with an account on the portal.
 *  - Throttle counters live in login_throttle (any node can serve any
 *    request): keys "acct:<account id>" and "ip:<address>". Failures grow a
 *    delay (none for the first 4 per account / 20 per address, then 1 s,
 *    2 s, 4 s ... capped at 15 min); an account never takes more than 100
 *    failures in 24 hours (then it is locked until the window ends, audit
 *    "account.locked").
 *  - Reset links: 16 random bytes, base64url, stored as BLAKE2b-256 hashes in
 *    resets; valid ACCOUNT_RESET_TTL seconds; single use; a new link revokes
 *    the account's older unused ones; at most ACCOUNT_RESET_PER_HOUR links per
 *    account per hour.
 *
 * Nothing here hashes or verifies a password (callers do, on the worker
 * pool), and nothing here may log a token, a password or a message body.
 * Sign-up never creates a patient record.
 */
#ifndef INVITO_ACCOUNT_H
#define INVITO_ACCOUNT_H

#include <stdint.h>

struct arena;
struct config;
struct store_conn;

#define ACCOUNT_RESET_TTL      3600 /* seconds a reset link stays valid */
#define ACCOUNT_RESET_PER_HOUR 3    /* reset links per account per hour */
#define ACCOUNT_DAY_FAILURES   100  /* failed sign-ins per account per 24 h, then locked */

enum account_err {
	ACCOUNT_OK = 0,
	ACCOUNT_ERR = -1,          /* store failure (logged) */
	ACCOUNT_NOTFOUND = -2,     /* no such account (or login not valid) */
	ACCOUNT_THROTTLED = -3,    /* too many failures: wait *retry_after seconds */
	ACCOUNT_UNKNOWN = -4,      /* reset link: no such link (or malformed token) */
	ACCOUNT_EXPIRED = -5,      /* reset link older than its validity */
	ACCOUNT_USED = -6,         /* reset link used already, or replaced by a newer one */
	ACCOUNT_RATE_LIMITED = -7, /* ACCOUNT_RESET_PER_HOUR links sent in the last hour */
	ACCOUNT_NO_PASSWORD = -8,  /* the patient has no account: invite instead */
	ACCOUNT_NO_CONTACT = -9,   /* no mobile or e-mail for the channel */
};
/* English msgid describing the error for a person. */
const char *account_strerror(int err);

struct account {
	int64_t id, patient_id, org_id, portal_id;
	char *login;
	char *pw_hash; /* Argon2id encoded string; NULL when no password yet */
	char *lang;    /* the patient's language, "it"/"en" */
	char *given_name;
	int64_t password_changed_at, last_login_at;
};

/* --- lookup ------------------------------------------------------------ */

/*
 * Normalises a typed login: an e-mail (trimmed, lower-cased) or a mobile
 * (E.164). Returns the normalised string in the arena, or NULL when it is
 * neither.
 */
char *account_login_normalise(const char *typed, struct arena *a);

/*
 * Finds the account a typed login names on portal_id (0: the first portal).
 * Returns 0 and fills *out (strings in a), ACCOUNT_NOTFOUND (also when the
 * login is malformed or names more than one account), or ACCOUNT_ERR.
 * The caller must spend the same time on NOTFOUND as on a wrong password
 * (verify against a dummy hash) so that sign-in does not reveal existence.
 */
int account_by_login(struct store_conn *c, int64_t portal_id, const char *typed,
                     struct account *out, struct arena *a);
/* The account of a patient: 0, ACCOUNT_NOTFOUND or ACCOUNT_ERR. */
int account_by_patient(struct store_conn *c, int64_t patient_id, struct account *out,
                       struct arena *a);

/* --- sign-in bookkeeping ---------------------------------------------- */

/*
 * Before verifying a password: 0 when a sign-in may be tried now for
 * account_id (0 when the login named no account) from ip (may be NULL);
 * ACCOUNT_THROTTLED with *retry_after (seconds, >= 1) otherwise. Writes nothing.
 */
int account_login_check(struct store_conn *c, int64_t account_id, const char *ip, int64_t now,
                        int64_t *retry_after);
/*
 * After a wrong password (or an unknown login, account_id 0): counts the
 * failure for the account and the address in its own transaction, writes
 * "account.login_failed" (and "account.locked" when the daily limit is
 * reached). Returns 0 or ACCOUNT_ERR.
 */
int account_login_failed(struct store_conn *c, int64_t account_id, const char *ip, int64_t now);
/*
 * After a right password: clears the account's counter (not the address's),
 * sets last_login_at and writes "account.login". The caller then starts a
 * session (kind patient, user_id = patient id). Returns 0 or ACCOUNT_ERR.
 */
int account_login_ok(struct store_conn *c, int64_t account_id, const char *ip, int64_t now);

/* --- password reset ----------------------------------------------------- */

/*
 * Staff "Reset password" on a profile: a reset link for the patient's account
 * (patient confined to org_id), sent by channel ("sms", "email", "both";
 * NULL: what the record has), in its own transaction with "reset.sent".
 * Returns 0, ACCOUNT_NO_PASSWORD (invite instead), ACCOUNT_NO_CONTACT,
 * ACCOUNT_RATE_LIMITED, ACCOUNT_NOTFOUND or ACCOUNT_ERR. cfg may be NULL:
 * links are built from portals.base_url only.
 */
int account_reset_send(struct store_conn *c, const struct config *cfg, int64_t org_id,
                       int64_t patient_id, int64_t staff_id, const char *channel, const char *ip,
                       int64_t now);
/*
 * POST /forgot: sends a reset link to the contact on file of the account the
 * typed login names (rate-limited per account). Returns 0 whether or not an
 * account exists, was rate-limited or had no contact; ACCOUNT_ERR only when
 * the store fails. The page shows the same words either way.
 */
int account_forgot(struct store_conn *c, const struct config *cfg, int64_t portal_id,
                   const char *typed_login, const char *ip, int64_t now);

struct account_reset_link {
	int64_t reset_id, account_id, patient_id, org_id;
	char *lang; /* the patient's language */
};
/* GET /r/{token}: 0 when the link is usable, else ACCOUNT_UNKNOWN / EXPIRED / USED. Writes nothing.
 */
int account_reset_open(struct store_conn *c, const char *token, int64_t now,
                       struct account_reset_link *out, struct arena *a);
/*
 * POST /r/{token} with the new password's hash: in one transaction, claims the
 * link (only one caller can), sets pw_hash and password_changed_at, deletes
 * EVERY patient session of the patient, revokes the other reset links, clears
 * the sign-in counter, queues "password_changed" to the contact(s) on file and
 * writes "reset.completed". The caller starts a fresh session afterwards if it
 * signs the patient in. Returns 0 with *out filled, or ACCOUNT_UNKNOWN /
 * EXPIRED / USED / ERR.
 */
int account_reset_complete(struct store_conn *c, const char *token, const char *pw_hash,
                           const char *ip, int64_t now, struct account_reset_link *out,
                           struct arena *a);

/* --- self sign-up ------------------------------------------------------- */

struct account_signup {
	int64_t portal_id;                    /* 0: the first portal */
	const char *family_name, *birth_date; /* birth date YYYY-MM-DD */
	const char *mobile, *email;           /* as typed; at least one */
	const char *ip;
};
/*
 * POST /signup: looks for a patient of the portal's organisations whose family
 * name (names_match), birth date and mobile or e-mail match. On a match
 * without an account it sends an invitation (invite_create, by the system) to
 * the contact on file that matched; with an account, a reset link. It never
 * creates a patient and never says which happened: returns 0 in every case
 * (match, no match, invalid input, recently invited), ACCOUNT_ERR only when
 * the store fails.
 */
int account_signup(struct store_conn *c, const struct config *cfg, const struct account_signup *s,
                   int64_t now);

#endif
