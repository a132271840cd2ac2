/*
 * store/apikeys: organisation API keys (migration 009). The key is a random
 * token made and hashed by http/apikey.c; this file stores and finds its
 * 32-byte hash. A revoked key and an unknown one are the same answer here,
 * so callers cannot tell them apart either.
 * It must never accept or store the key itself.
 */
#include "store/store.h"

#include "lib/arena.h"

#include <string.h>

#define HASH_LEN       32
#define NAME_MAX_BYTES 100
#define TOUCH_EVERY    60 /* seconds between two writes of last_used_at */

int store_apikey_add(struct store_conn *c, int64_t org_id, const char *name,
                     const unsigned char hash[32], int64_t now, int64_t *id)
{
	if (hash == NULL || name == NULL || name[0] == '\0' || strlen(name) > NAME_MAX_BYTES)
		return STORE_INVALID;
	return store_insert(c, id,
	                    "INSERT INTO api_keys (org_id, name, key_hash, created_at) VALUES (?, "
	                    "?, ?, ?) RETURNING id",
	                    "itbi", org_id, name, (const void *)hash, (size_t)HASH_LEN, now);
}

int store_apikey_find(struct store_conn *c, const unsigned char hash[32], int64_t now,
                      struct store_apikey *out)
{
	struct store_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	int rc = store_query(c, &s,
	                     "SELECT id, org_id, created_at, COALESCE(last_used_at, 0) FROM "
	                     "api_keys WHERE key_hash = ? AND revoked_at IS NULL",
	                     "b", (const void *)hash, (size_t)HASH_LEN);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1) {
		out->id = store_col_int(s, 0);
		out->org_id = store_col_int(s, 1);
		out->created_at = store_col_int(s, 2);
		out->last_used_at = store_col_int(s, 3);
		rc = 0;
	} else if (rc == 0) {
		rc = STORE_NOTFOUND;
	}
	store_done(s);
	if (rc == 0 && now - out->last_used_at >= TOUCH_EVERY &&
	    store_exec(c, NULL, "UPDATE api_keys SET last_used_at = ? WHERE id = ?", "ii", now,
	               out->id) == 0)
		out->last_used_at = now; /* a failed touch is no reason to refuse the key */
	return rc;
}

int store_apikey_list(struct store_conn *c, int64_t org_id, struct store_apikey **rows, int *n,
                      struct arena *a)
{
	struct store_stmt *s = NULL;
	int cap = 16, k = 0;
	*rows = NULL;
	*n = 0;
	int rc = store_query(c, &s,
	                     "SELECT id, org_id, name, created_at, COALESCE(last_used_at, 0), "
	                     "COALESCE(revoked_at, 0) FROM api_keys WHERE (? = 0 OR org_id = ?) "
	                     "ORDER BY id",
	                     "ii", org_id, org_id);
	if (rc != 0)
		return rc;
	struct store_apikey *r = arena_alloc(a, (size_t)cap * sizeof(*r));
	while ((rc = store_step(s)) == 1) {
		if (k == cap) {
			struct store_apikey *bigger = arena_alloc(a, (size_t)cap * 2 * sizeof(*r));
			memcpy(bigger, r, (size_t)cap * sizeof(*r));
			r = bigger;
			cap *= 2;
		}
		struct store_apikey *x = &r[k++];
		x->id = store_col_int(s, 0);
		x->org_id = store_col_int(s, 1);
		x->name = store_col_dup(s, 2, a);
		x->created_at = store_col_int(s, 3);
		x->last_used_at = store_col_int(s, 4);
		x->revoked_at = store_col_int(s, 5);
	}
	store_done(s);
	if (rc < 0)
		return rc;
	*rows = r;
	*n = k;
	return 0;
}

int store_apikey_revoke(struct store_conn *c, int64_t id, int64_t now)
{
	int64_t changes = 0, exists = 0;
	int rc = store_exec(
	    c, &changes, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
	    "ii", now, id);
	if (rc != 0 || changes == 1)
		return rc;
	rc = store_scalar(c, &exists, "SELECT id FROM api_keys WHERE id = ?", "i", id);
	return rc == 0 ? STORE_CONFLICT : rc;
}
