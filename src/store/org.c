/*
 * store/org: organisations and portals, read side, and an organisation's own
 * details (name, phone, SMS sender name) from the staff Settings page.
 * Organisations map their text kind ('customer', 'member') to enum
 * store_org_kind here and nowhere else. It must never read or change a row
 * other than the one asked for by id.
 */
#include "store/store.h"

#include <string.h>

int store_org_get(struct store_conn *c, int64_t id, struct store_org *out, struct arena *a)
{
	struct store_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	int rc = store_query(c, &s,
	                     "SELECT id, portal_id, kind, name, phone, email, address, timezone, "
	                     "sender_name FROM organisations WHERE id = ?",
	                     "i", id);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 0) {
		rc = STORE_NOTFOUND;
		goto out;
	}
	if (rc < 0)
		goto out;
	out->id = store_col_int(s, 0);
	out->portal_id = store_col_int(s, 1);
	const char *kind = store_col_text(s, 2);
	out->kind = kind && strcmp(kind, "member") == 0 ? STORE_ORG_MEMBER : STORE_ORG_CUSTOMER;
	out->name = store_col_dup(s, 3, a);
	out->phone = store_col_dup(s, 4, a);
	out->email = store_col_dup(s, 5, a);
	out->address = store_col_dup(s, 6, a);
	out->timezone = store_col_dup(s, 7, a);
	out->sender_name = store_col_dup(s, 8, a);
	rc = 0;
out:
	store_done(s);
	return rc;
}

int store_org_set_details(struct store_conn *c, int64_t id, const char *name, const char *phone,
                          const char *sender_name)
{
	if (name == NULL || name[0] == '\0')
		return STORE_INVALID;
	int64_t changed = 0;
	int rc = store_exec(c, &changed,
	                    "UPDATE organisations SET name = ?, phone = ?, sender_name = ? "
	                    "WHERE id = ?",
	                    "ttti", name, phone != NULL && phone[0] != '\0' ? phone : NULL,
	                    sender_name != NULL && sender_name[0] != '\0' ? sender_name : NULL, id);
	return rc == 0 && changed == 0 ? STORE_NOTFOUND : rc;
}

int store_org_setting(struct store_conn *c, int64_t org_id, const char *key, char **value,
                      struct arena *a)
{
	struct store_stmt *s = NULL;
	*value = NULL;
	int rc = store_query(c, &s, "SELECT value FROM org_settings WHERE org_id = ? AND key = ?",
	                     "it", org_id, key);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 1)
		*value = store_col_dup(s, 0, a);
	store_done(s);
	return rc < 0 ? rc : 0;
}

int store_org_setting_set(struct store_conn *c, int64_t org_id, const char *key, const char *value,
                          int64_t now)
{
	if (key == NULL || key[0] == '\0')
		return STORE_INVALID;
	if (value == NULL || value[0] == '\0')
		return store_exec(c, NULL, "DELETE FROM org_settings WHERE org_id = ? AND key = ?",
		                  "it", org_id, key);
	return store_exec(c, NULL,
	                  "INSERT INTO org_settings (org_id, key, value, updated_at) "
	                  "VALUES (?, ?, ?, ?) ON CONFLICT (org_id, key) DO UPDATE SET "
	                  "value = excluded.value, updated_at = excluded.updated_at",
	                  "itti", org_id, key, value, now);
}

int store_portal_get(struct store_conn *c, int64_t id, struct store_portal *out, struct arena *a)
{
	struct store_stmt *s = NULL;
	memset(out, 0, sizeof(*out));
	int rc = store_query(c, &s,
	                     "SELECT id, name, base_url, policy_text, policy_version, languages, "
	                     "invite_ttl_days FROM portals WHERE id = ?",
	                     "i", id);
	if (rc != 0)
		return rc;
	rc = store_step(s);
	if (rc == 0) {
		rc = STORE_NOTFOUND;
		goto out;
	}
	if (rc < 0)
		goto out;
	out->id = store_col_int(s, 0);
	out->name = store_col_dup(s, 1, a);
	out->base_url = store_col_dup(s, 2, a);
	out->policy_text = store_col_dup(s, 3, a);
	out->policy_version = store_col_dup(s, 4, a);
	out->languages = store_col_dup(s, 5, a);
	out->invite_ttl_days = store_col_int(s, 6);
	rc = 0;
out:
	store_done(s);
	return rc;
}
