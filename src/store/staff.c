/*
 * store/staff: staff users and their sign-in counters. E-mail addresses are
 * lower-cased (ASCII) on the way in, so the UNIQUE index on staff_users.email
 * is case-insensitive in effect on every backend.
 * It must never return or log a password hash outside struct store_staff.
 */
#include "store/store.h"

#include "lib/arena.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>

#define EMAIL_MAX 320

/* -1 when s does not fit (no real address is that long). */
static int lower_email(const char *s, char out[EMAIL_MAX + 1])
{
	size_t n = strlen(s);
	if (n > EMAIL_MAX)
		return -1;
	for (size_t i = 0; i <= n; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	return 0;
}

static const char *role_name(enum store_staff_role r)
{
	return r == STORE_ROLE_ADMIN ? "admin" : "reception";
}

int store_staff_add(struct store_conn *c, int64_t org_id, const char *email, const char *name,
                    const char *pw_hash, enum store_staff_role role, int64_t *id)
{
	char lower[EMAIL_MAX + 1];
	if (email == NULL || name == NULL || pw_hash == NULL || lower_email(email, lower) != 0)
		return STORE_INVALID;
	return store_insert(
	    c, id,
	    "INSERT INTO staff_users (org_id, email, name, pw_hash, role, created_at) "
	    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
	    "itttti", org_id, lower, name, pw_hash, role_name(role), now_utc());
}

#define STAFF_COLS "SELECT id, org_id, email, name, pw_hash, role, failed_logins, locked_until "

static int read_one(struct store_stmt *s, struct store_staff *out, struct arena *a)
{
	int rc = store_step(s);
	if (rc == 0)
		rc = STORE_NOTFOUND;
	if (rc < 0)
		goto out;
	out->id = store_col_int(s, 0);
	out->org_id = store_col_int(s, 1);
	out->email = store_col_dup(s, 2, a);
	out->name = store_col_dup(s, 3, a);
	out->pw_hash = store_col_dup(s, 4, a);
	const char *role = store_col_text(s, 5);
	out->role = role && strcmp(role, "admin") == 0 ? STORE_ROLE_ADMIN : STORE_ROLE_RECEPTION;
	out->failed_logins = store_col_int(s, 6);
	out->locked_until = store_col_int(s, 7);
	rc = 0;
out:
	store_done(s);
	return rc;
}

int store_staff_by_email(struct store_conn *c, const char *email, struct store_staff *out,
                         struct arena *a)
{
	char lower[EMAIL_MAX + 1];
	memset(out, 0, sizeof(*out));
	if (email == NULL || lower_email(email, lower) != 0)
		return STORE_NOTFOUND;
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s,
	                     STAFF_COLS "FROM staff_users WHERE email = ? AND disabled_at IS NULL",
	                     "t", lower);
	return rc != 0 ? rc : read_one(s, out, a);
}

int store_staff_get(struct store_conn *c, int64_t id, struct store_staff *out, struct arena *a)
{
	memset(out, 0, sizeof(*out));
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s, STAFF_COLS "FROM staff_users WHERE id = ?", "i", id);
	return rc != 0 ? rc : read_one(s, out, a);
}

/*
 * The limit-th failure locks the account and starts the count again, so once
 * the lock expires the user has `limit` fresh attempts, not one.
 */
int store_staff_login_failed(struct store_conn *c, int64_t id, int64_t now, int limit,
                             int64_t lock_seconds)
{
	if (limit < 1 || lock_seconds < 0)
		return STORE_INVALID;
	int64_t changed = 0;
	int rc = store_exec(
	    c, &changed,
	    "UPDATE staff_users SET "
	    "locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END, "
	    "failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 "
	    "ELSE failed_logins + 1 END "
	    "WHERE id = ?",
	    "iiii", (int64_t)limit, now + lock_seconds, (int64_t)limit, id);
	if (rc == 0 && changed == 0)
		rc = STORE_NOTFOUND;
	return rc;
}

int store_staff_login_ok(struct store_conn *c, int64_t id, int64_t now)
{
	int64_t changed = 0;
	int rc = store_exec(c, &changed,
	                    "UPDATE staff_users SET failed_logins = 0, locked_until = 0, "
	                    "last_login_at = ? WHERE id = ?",
	                    "ii", now, id);
	if (rc == 0 && changed == 0)
		rc = STORE_NOTFOUND;
	return rc;
}
