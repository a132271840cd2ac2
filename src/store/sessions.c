/*
 * store/sessions: server-side sessions for staff and patients. The cookie
 * holds a random token; only its 32-byte hash is stored and looked up. A
 * session ends when it has been idle for idle_secs or has existed for
 * absolute_secs, whichever comes first (at exactly the limit it has ended).
 * It must never accept or store the token itself.
 */
#include "store/store.h"

#include <string.h>

#define HASH_LEN 32

int store_session_create(struct store_conn *c, const unsigned char hash[32],
                         enum store_session_kind kind, int64_t user_id, int64_t org_id,
                         const char *csrf, int64_t now)
{
	if (hash == NULL || csrf == NULL)
		return STORE_INVALID;
	return store_exec(
	    c, NULL,
	    "INSERT INTO sessions (token_hash, kind, user_id, org_id, csrf, created_at, "
	    "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
	    "btiitii", (const void *)hash, (size_t)HASH_LEN,
	    kind == STORE_SESSION_PATIENT ? "patient" : "staff", user_id, org_id, csrf, now, now);
}

int store_session_get(struct store_conn *c, const unsigned char hash[32], int64_t now,
                      int64_t idle_secs, int64_t absolute_secs, struct store_session *out,
                      struct arena *a)
{
	memset(out, 0, sizeof(*out));
	struct store_stmt *s = NULL;
	int rc = store_query(c, &s,
	                     "SELECT id, user_id, org_id, kind, csrf, lang, created_at, last_seen "
	                     "FROM sessions WHERE token_hash = ?",
	                     "b", (const void *)hash, (size_t)HASH_LEN);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 0)
		rc = STORE_NOTFOUND;
	if (rc < 0)
		goto out;
	out->id = store_col_int(s, 0);
	out->user_id = store_col_int(s, 1);
	out->org_id = store_col_int(s, 2);
	const char *kind = store_col_text(s, 3);
	out->kind =
	    kind && strcmp(kind, "patient") == 0 ? STORE_SESSION_PATIENT : STORE_SESSION_STAFF;
	out->csrf = store_col_dup(s, 4, a);
	out->lang = store_col_dup(s, 5, a);
	out->created_at = store_col_int(s, 6);
	out->last_seen = store_col_int(s, 7);
	rc = 0;
out:
	store_done(s);
	if (rc == 0 &&
	    (now >= out->last_seen + idle_secs || now >= out->created_at + absolute_secs)) {
		int64_t id = out->id;
		memset(out, 0, sizeof(*out));
		rc = store_exec(c, NULL, "DELETE FROM sessions WHERE id = ?", "i", id);
		if (rc == 0)
			rc = STORE_NOTFOUND;
	}
	return rc;
}

int store_session_touch(struct store_conn *c, int64_t id, int64_t now)
{
	int64_t changed = 0;
	int rc = store_exec(c, &changed, "UPDATE sessions SET last_seen = ? WHERE id = ?", "ii",
	                    now, id);
	return rc == 0 && changed == 0 ? STORE_NOTFOUND : rc;
}

int store_session_set_lang(struct store_conn *c, int64_t id, const char *lang)
{
	int64_t changed = 0;
	int rc =
	    store_exec(c, &changed, "UPDATE sessions SET lang = ? WHERE id = ?", "ti", lang, id);
	return rc == 0 && changed == 0 ? STORE_NOTFOUND : rc;
}

int store_session_delete(struct store_conn *c, const unsigned char hash[32])
{
	return store_exec(c, NULL, "DELETE FROM sessions WHERE token_hash = ?", "b",
	                  (const void *)hash, (size_t)HASH_LEN);
}

int store_session_purge(struct store_conn *c, int64_t now, int64_t idle_secs, int64_t absolute_secs)
{
	return store_exec(c, NULL, "DELETE FROM sessions WHERE last_seen <= ? OR created_at <= ?",
	                  "ii", now - idle_secs, now - absolute_secs);
}
