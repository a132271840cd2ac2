/*
 * store: invito's only door to the database.
 *
 * Two layers, one header:
 *  - a backend-neutral statement API (store_query / store_step / store_col_*)
 *    with bound parameters only; SQL is written once, portable, with `?`
 *    placeholders (a PostgreSQL backend rewrites them to $n);
 *  - domain functions (store_patient_*, store_staff_*, store_session_*, ...)
 *    written on top of it, one file per table group (patients.c, staff.c, ...).
 *
 * Threads: struct store is shared by every thread and is a pool of
 * connections; a struct store_conn is taken with store_acquire() for one
 * request or one command and given back with store_release(). A connection is
 * used by one thread at a time. Timestamps are int64 seconds UTC everywhere.
 * It must never build SQL from input: every value is bound.
 */
#ifndef INVITO_STORE_H
#define INVITO_STORE_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct store;
struct store_conn;
struct store_stmt;

enum store_err {
	STORE_OK = 0,
	STORE_ERR = -1,      /* generic failure, logged */
	STORE_NOTFOUND = -2, /* no such row (or not in this organisation) */
	STORE_CONFLICT = -3, /* unique constraint or lost race */
	STORE_BUSY = -4,     /* locked for longer than the busy timeout */
	STORE_FULL = -5,     /* disk full */
	STORE_INVALID = -6,  /* bad argument */
};
const char *store_strerror(int err);

/* --- opening, pool, migrations --------------------------------------- */

/*
 * url: a file path or "sqlite:PATH" (SQLite). Opens (creating when needed),
 * applies pending migrations, and sets WAL, synchronous=FULL and a busy timeout.
 * pool: connections kept (1..64). Returns 0 and *out, or a negative store_err.
 */
int store_open(struct store **out, const char *url, int pool);
void store_free(struct store *st);
/* Applies pending migrations; *applied gets how many (may be NULL). */
int store_migrate(struct store *st, int *applied);
/* Schema version after migrations (highest applied number). */
int store_schema_version(struct store *st);
/* How many migrations the last store_open() or store_migrate() applied. */
int store_last_applied(struct store *st);
/* "sqlite" (or "pg"): the backend behind st. */
const char *store_backend_name(struct store *st);
/*
 * url made fit to print: in a postgresql:// (or postgres://) URL the password,
 * in user:password@ or a password= parameter, becomes "***"; any other URL is
 * copied as it is. Writes into out (size bytes, truncated to fit) and returns out.
 */
char *store_url_redact(const char *url, char *out, size_t size);

/* Waits for a free connection. Never returns NULL. */
struct store_conn *store_acquire(struct store *st);
void store_release(struct store_conn *c);
/* 1 when a statement on c hit the lock timeout (STORE_BUSY) since it was acquired: the
 * HTTP layer answers 503 with Retry-After instead of 500. */
int store_conn_busy(const struct store_conn *c);
/* 1 when a statement on c found the disk (or the database's size limit) full since it was
 * acquired: the HTTP layer answers 507 with a page that says nothing was saved. */
int store_conn_full(const struct store_conn *c);

/* --- transactions ------------------------------------------------------ */

/* A write transaction (SQLite: BEGIN IMMEDIATE). Nested calls are an error. */
int store_begin(struct store_conn *c);
/*
 * store_begin for a writer that read, in this same transaction, every row its
 * writes refer to (a bulk invite): SQLite skips the per-row foreign-key lookups
 * until the commit or rollback that ends it, a sixth of a 100,000-row run.
 * PostgreSQL checks them as always.
 */
int store_begin_bulk(struct store_conn *c);
int store_commit(struct store_conn *c);
/* Safe to call when no transaction is open. */
void store_rollback(struct store_conn *c);

/* --- statements -------------------------------------------------------- */

/*
 * Prepares sql (portable, `?` placeholders) and binds its parameters, one per
 * character of types:
 *   'i' int64_t       'I' int64_t, bound as NULL when 0 (optional foreign keys)
 *   't' const char *  (NULL binds SQL NULL)
 *   's' const char *  as 't', but the caller keeps the string unchanged until
 *       store_done(): SQLite then reads it in place instead of copying it
 *       (bulk writes: invite/bulk.c binds 128 rendered messages per statement)
 *   'b' const void *, size_t  (blob)
 * Prepared statements are cached per connection; store_done() gives it back.
 * Returns 0 and *out, or a negative store_err.
 */
int store_query(struct store_conn *c, struct store_stmt **out, const char *sql, const char *types,
                ...);
/* 1 when a row is ready, 0 when done, negative store_err on failure. */
int store_step(struct store_stmt *s);
int64_t store_col_int(struct store_stmt *s, int col);
/* NULL for SQL NULL. Valid until the next store_step()/store_done(). */
const char *store_col_text(struct store_stmt *s, int col);
/* Copy of the text into the arena (NULL stays NULL). */
char *store_col_dup(struct store_stmt *s, int col, struct arena *a);
int store_col_is_null(struct store_stmt *s, int col);
/* Resets and returns the statement to the cache; accepts NULL. */
void store_done(struct store_stmt *s);

/*
 * For SQL whose shape depends on the request (a search with optional filters):
 * store_prepare() takes SQL assembled from constant fragments only, and each
 * store_bind() binds the next parameters, with the same type characters, in
 * the order their `?` appear. store_step() refuses a statement with unbound
 * parameters. store_query() is store_prepare() + one store_bind().
 */
int store_prepare(struct store_conn *c, struct store_stmt **out, const char *sql);
int store_bind(struct store_stmt *s, const char *types, ...);
/* Blob column: pointer valid until the next store_step()/store_done(); *len gets its size. */
const void *store_col_blob(struct store_stmt *s, int col, size_t *len);

/* Runs a statement that returns no rows; *changes gets rows changed (may be NULL). */
int store_exec(struct store_conn *c, int64_t *changes, const char *sql, const char *types, ...);
/* Runs a statement and reads the first column of its first row as an integer.
 * STORE_NOTFOUND when there is no row. */
int store_scalar(struct store_conn *c, int64_t *out, const char *sql, const char *types, ...);
/* For `INSERT ... RETURNING id` on both backends: runs it and returns the id. */
int store_insert(struct store_conn *c, int64_t *id, const char *sql, const char *types, ...);

/* ====================================================================== */
/* Domain                                                                  */
/* ====================================================================== */

enum store_org_kind { STORE_ORG_CUSTOMER = 0, STORE_ORG_MEMBER = 1 };
enum store_staff_role { STORE_ROLE_RECEPTION = 0, STORE_ROLE_ADMIN = 1 };

/* Portal status of a patient, as staff see it (derived, not stored). */
enum store_portal_status {
	STORE_PS_NONE = 0, /* no account, no pending invitation */
	STORE_PS_INVITED,  /* a pending invitation exists */
	STORE_PS_ACTIVE,   /* has a password */
	STORE_PS_FAMILY,   /* managed by another patient's account */
};

struct store_portal {
	int64_t id;
	char *name, *base_url, *policy_text, *policy_version, *languages;
	int64_t invite_ttl_days;
	/* filled by store_portal_by_id / store_portal_for_host / store_org_portals (portals.c)
	 * only: */
	char *host;           /* authority of base_url ("clinic.example:8443"); NULL: none */
	char *primary_colour; /* "#rrggbb", checked by store_portal_colour_ok; NULL: default */
	int has_logo;
	int invite_max_attempts; /* wrong family names before an invitation locks */
	int password_min_chars;  /* shortest new patient password (migration 008) */
};

struct store_org {
	int64_t id, portal_id;
	enum store_org_kind kind;
	char *name, *phone, *email, *address, *timezone;
	char *sender_name; /* SMS sender (and e-mail display name); NULL: none set */
};

struct store_staff {
	int64_t id, org_id;
	char *email, *name, *pw_hash;
	enum store_staff_role role;
	int64_t failed_logins, locked_until;
};

struct store_patient {
	int64_t id, org_id;
	char *given_name, *family_name, *birth_date; /* YYYY-MM-DD */
	char *mobile, *email, *lang;                 /* mobile in E.164; lang "it"/"en" */
	char *external_ref;    /* id in the clinic's own system, for imports */
	int64_t managed_by;    /* patient id of the managing account, 0 if none */
	char *managed_by_name; /* filled by reads: "Given Family" of manager */
	int has_password;
	enum store_portal_status status;
	int64_t created_at, updated_at;
};

struct store_patient_filter {
	const char *q;    /* name, mobile or e-mail fragment; NULL or "" for all */
	int status;       /* -1 for any, else enum store_portal_status */
	int64_t after_id; /* keyset pagination: rows with id > after_id (0 from the start) */
	int limit;        /* 1..500 */
};

struct store_appointment_row {
	int64_t id, start_at;
	char *service, *org_name, *kind, *payment, *booked_via;
	int paid;
};

struct store_recall_row {
	int64_t id, sent_at;
	char *service, *due_date, *channel;
};

/* organisations and portals */
int store_org_get(struct store_conn *c, int64_t id, struct store_org *out, struct arena *a);
/* Sets an organisation's name (required), phone and SMS sender name (NULL or "": none).
 * Values are stored as given: the caller validates them (staff/settings.c). */
int store_org_set_details(struct store_conn *c, int64_t id, const char *name, const char *phone,
                          const char *sender_name);
/* An org_settings value of org_id itself (no inheritance): *value NULL when unset (arena). */
int store_org_setting(struct store_conn *c, int64_t org_id, const char *key, char **value,
                      struct arena *a);
/* Sets an org_settings value (NULL or "": removes it, so the default applies). The caller
 * validates the value. */
int store_org_setting_set(struct store_conn *c, int64_t org_id, const char *key, const char *value,
                          int64_t now);
int store_portal_get(struct store_conn *c, int64_t id, struct store_portal *out, struct arena *a);

/* staff */
int store_staff_add(struct store_conn *c, int64_t org_id, const char *email, const char *name,
                    const char *pw_hash, enum store_staff_role role, int64_t *id);
/* By e-mail (case-insensitive). */
int store_staff_by_email(struct store_conn *c, const char *email, struct store_staff *out,
                         struct arena *a);
int store_staff_get(struct store_conn *c, int64_t id, struct store_staff *out, struct arena *a);
/* Records a failed sign-in; locks until `lock_until` once failures reach the limit. */
int store_staff_login_failed(struct store_conn *c, int64_t id, int64_t now, int limit,
                             int64_t lock_seconds);
int store_staff_login_ok(struct store_conn *c, int64_t id, int64_t now);

/* patients: every call is confined to org_id; another organisation's row is STORE_NOTFOUND. */
int store_patient_get(struct store_conn *c, int64_t org_id, int64_t id, struct store_patient *out,
                      struct arena *a);
/* Inserts p (p->org_id set); sets p->id. */
int store_patient_add(struct store_conn *c, struct store_patient *p);
int store_patient_update(struct store_conn *c, const struct store_patient *p);
/* Up to f->limit rows into *rows (arena); *n rows; *more set when another page follows. */
int store_patient_list(struct store_conn *c, int64_t org_id, const struct store_patient_filter *f,
                       struct store_patient **rows, int *n, int *more, struct arena *a);
int store_patient_count(struct store_conn *c, int64_t org_id, const struct store_patient_filter *f,
                        int64_t *count);
/* How far an organisation's patients have come online (the staff "Patient portal" page). */
struct store_portal_counts {
	int64_t patients;       /* every record of the organisation */
	int64_t by_status[4];   /* indexed by enum store_portal_status, as the patient list says */
	int64_t none_unreached; /* of by_status[STORE_PS_NONE]: neither mobile nor e-mail */
	int64_t sent, accepted; /* invitations sent, and accepted, at or after `since` */
};
/* Counts for org_id's patients at now; sent/accepted from since on. */
int store_portal_counts(struct store_conn *c, int64_t org_id, int64_t now, int64_t since,
                        struct store_portal_counts *out);
/* Family members this patient's account manages. */
int store_patient_family(struct store_conn *c, int64_t org_id, int64_t id,
                         struct store_patient **rows, int *n, struct arena *a);
int store_patient_appointments(struct store_conn *c, int64_t org_id, int64_t id,
                               struct store_appointment_row **rows, int *n, struct arena *a);
int store_patient_recalls(struct store_conn *c, int64_t org_id, int64_t id,
                          struct store_recall_row **rows, int *n, struct arena *a);
/* Imports: find by the clinic's own reference, for idempotent re-runs. */
int store_patient_by_ref(struct store_conn *c, int64_t org_id, const char *external_ref,
                         int64_t *id);

/* sessions: the token's hash is stored, never the token. */
enum store_session_kind { STORE_SESSION_STAFF = 0, STORE_SESSION_PATIENT = 1 };
struct store_session {
	int64_t id, user_id, org_id, created_at, last_seen;
	enum store_session_kind kind;
	char *csrf; /* per-session CSRF secret (hex) */
	char *lang;
};
int store_session_create(struct store_conn *c, const unsigned char hash[32],
                         enum store_session_kind kind, int64_t user_id, int64_t org_id,
                         const char *csrf, int64_t now);
/* STORE_NOTFOUND when missing or past idle/absolute limits (then it is deleted). */
int store_session_get(struct store_conn *c, const unsigned char hash[32], int64_t now,
                      int64_t idle_secs, int64_t absolute_secs, struct store_session *out,
                      struct arena *a);
int store_session_touch(struct store_conn *c, int64_t id, int64_t now);
/* Remembers the language chosen in this session (NULL clears it). */
int store_session_set_lang(struct store_conn *c, int64_t id, const char *lang);
int store_session_delete(struct store_conn *c, const unsigned char hash[32]);
int store_session_purge(struct store_conn *c, int64_t now, int64_t idle_secs,
                        int64_t absolute_secs);

/* audit: actor_kind "staff", "patient", "system". */
int store_audit(struct store_conn *c, int64_t org_id, const char *actor_kind, int64_t actor_id,
                const char *action, const char *subject_kind, int64_t subject_id, const char *ip,
                const char *detail);

/* One audit event as the admins' Activity page shows it. */
struct store_audit_row {
	int64_t id, created_at, actor_id, subject_id;
	char *actor_kind, *actor_name; /* actor_name: a staff user's name, else NULL */
	char *action, *subject_kind, *ip, *detail;
};
#define STORE_AUDIT_PREFIXES_MAX 6
struct store_audit_filter {
	/* actions starting with one of these ("invite.", "reset."); none: every action */
	const char *prefixes[STORE_AUDIT_PREFIXES_MAX];
	int nprefixes;
	int64_t before_at, before_id; /* keyset: events older than (before_at, before_id); 0: all */
	int limit;                    /* 1..200 */
};
/* org_id's events, newest first: up to f->limit into *rows (arena), *more when older ones
 * follow. Prefixes are matched as text, never as patterns of the caller's. */
int store_audit_list(struct store_conn *c, int64_t org_id, const struct store_audit_filter *f,
                     struct store_audit_row **rows, int *n, int *more, struct arena *a);

/* --- API keys (apikeys.c) ----------------------------------------------- */

/* An organisation's key for the HTTP API; only the hash of the key is stored. */
struct store_apikey {
	int64_t id, org_id, created_at, last_used_at, revoked_at; /* 0: never / not revoked */
	char *name;                                               /* arena */
};
/* Adds a key of org_id called name (1..100 bytes) with hash; *id. */
int store_apikey_add(struct store_conn *c, int64_t org_id, const char *name,
                     const unsigned char hash[32], int64_t now, int64_t *id);
/*
 * The live (not revoked) key with hash: 0 and *out (name NULL), or STORE_NOTFOUND
 * for an unknown or revoked one alike. Records last_used_at = now when it is a
 * minute old or more.
 */
int store_apikey_find(struct store_conn *c, const unsigned char hash[32], int64_t now,
                      struct store_apikey *out);
/* Keys of org_id (0: every organisation), by id, into *rows (arena); *n. */
int store_apikey_list(struct store_conn *c, int64_t org_id, struct store_apikey **rows, int *n,
                      struct arena *a);
/* Revokes key id: 0, STORE_NOTFOUND (no such key), or STORE_CONFLICT (already revoked). */
int store_apikey_revoke(struct store_conn *c, int64_t id, int64_t now);

/* --- portals (portals.c) ------------------------------------------------ */

#define STORE_LOGO_MAX (256 * 1024) /* bytes of a portal's logo */

/* Every column of one portal (not the logo's bytes). 0, STORE_NOTFOUND or an error. */
int store_portal_by_id(struct store_conn *c, int64_t id, struct store_portal *out, struct arena *a);
/*
 * The portal whose host is host (lower-case host[:port], as a request's Host header
 * names it; NULL matches none), else the default portal (lowest id). *by_host is 1
 * when host picked it; *hosted is 1 when any portal has a host at all. Strings in a.
 * STORE_NOTFOUND only when there is no portal.
 */
int store_portal_for_host(struct store_conn *c, const char *host, struct store_portal *out,
                          int *by_host, int *hosted, struct arena *a);
/* The portal an organisation (customer or member) belongs to. */
int store_org_portal(struct store_conn *c, int64_t org_id, int64_t *portal_id);
/* The portal of a patient's account, else of the patient's organisation org_id (a patient
 * session's portal). STORE_NOTFOUND when neither exists. */
int store_patient_portal(struct store_conn *c, int64_t patient_id, int64_t org_id,
                         int64_t *portal_id);
/* 0 when colour is "#rrggbb" (hex) and white text on it reaches 4.5:1; else STORE_INVALID. */
int store_portal_colour_ok(const char *colour);
/* The lower-case authority (host[:port]) of an http(s) base URL into out; STORE_INVALID when
 * the URL is not one (or does not fit). */
int store_portal_host_of(const char *base_url, char *out, size_t size);
/* Sets base_url and the host derived from it (base_url NULL: unchanged) and the primary
 * colour (NULL: the default). STORE_INVALID for a bad colour or URL, STORE_CONFLICT when
 * another portal has that host. */
int store_portal_set_look(struct store_conn *c, int64_t id, const char *base_url,
                          const char *colour);
/* "image/png", "image/jpeg" or "image/webp" when data (len bytes) is a logo
 * store_portal_set_logo accepts (its first bytes say which; at most STORE_LOGO_MAX), else
 * NULL. */
const char *store_portal_logo_type(const void *data, size_t len);
/* Stores a PNG, JPEG or WebP logo (its type from its first bytes; at most STORE_LOGO_MAX);
 * data NULL removes it. STORE_INVALID for anything else. */
int store_portal_set_logo(struct store_conn *c, int64_t id, const void *data, size_t len);
/* The logo's bytes (copied into a) and type (a literal "image/..."); STORE_NOTFOUND when
 * none. */
int store_portal_logo(struct store_conn *c, int64_t id, const char **type, const void **data,
                      size_t *len, struct arena *a);
/* The privacy policy's text in lang (portal_policies), else portals.policy_text (arena). */
int store_portal_policy(struct store_conn *c, int64_t portal_id, const char *lang, char **text,
                        struct arena *a);
/* A new policy version (version NULL: unchanged) and/or the text of one language
 * (lang/text NULL: unchanged). Patients are asked to accept a new version at sign-in. */
int store_portal_set_policy(struct store_conn *c, int64_t portal_id, const char *version,
                            const char *lang, const char *text, int64_t now);
/* Moves the policy version from `from` to `to`: STORE_CONFLICT when the version in force is
 * not `from` any more (another admin published one meanwhile), STORE_NOTFOUND without the
 * portal. */
int store_portal_policy_bump(struct store_conn *c, int64_t portal_id, const char *from,
                             const char *to);
/* The version of the account's newest privacy consent not withdrawn (arena); STORE_NOTFOUND
 * when none. */
int store_policy_accepted(struct store_conn *c, int64_t account_id, char **version,
                          struct arena *a);
/* Records the acceptance of a privacy policy version (time, ip; ip may be NULL). */
int store_policy_accept(struct store_conn *c, int64_t account_id, const char *version,
                        const char *ip, int64_t now);

/* The portals organisation org_id owns (as the customer whose portal it is; a member owns
 * none), in id order, every column as store_portal_by_id fills them, into *rows (arena). */
int store_org_portals(struct store_conn *c, int64_t org_id, struct store_portal **rows, int *n,
                      struct arena *a);
/* The portal's shortest new password (portals.password_min_chars). */
int store_portal_password_min(struct store_conn *c, int64_t portal_id, int *min_chars);
/* Bounds of the portal limits store_portal_set_limits accepts (the password's are
 * PASSWORD_MIN_CHARS_LOW/HIGH in lib/password.h, the same as migration 008's CHECK). */
#define STORE_INVITE_TTL_MIN      1
#define STORE_INVITE_TTL_MAX      365
#define STORE_INVITE_ATTEMPTS_MIN 1
#define STORE_INVITE_ATTEMPTS_MAX 20
/* Sets the invitation link lifetime in days, the wrong family names before a link locks and
 * the shortest new password. STORE_INVALID when a value is out of bounds. */
int store_portal_set_limits(struct store_conn *c, int64_t id, int invite_ttl_days,
                            int invite_max_attempts, int password_min_chars);
/* The policy version after cur: its trailing number plus one ("1" -> "2", "2026-01" ->
 * "2026-02", "A-9" -> "A-10"), else cur + "-2"; into out. STORE_INVALID when it does not fit
 * in size or in the 64 characters a version may have. */
int store_policy_version_next(const char *cur, char *out, size_t size);

/* --- backup ------------------------------------------------------------- */

/*
 * Writes a consistent copy of the database to path (replaced when it exists,
 * only once the copy is complete) while other connections keep reading and
 * writing: every transaction committed before the copy began is in it.
 * SQLite only; PostgreSQL returns STORE_INVALID (use pg_dump). STORE_INVALID
 * too when path is the database itself; another negative store_err when path
 * cannot be written.
 */
int store_backup(struct store *st, const char *path);

#endif
