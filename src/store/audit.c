/*
 * store/audit: the append-only record of who did what to whom, when, from
 * where. Rows are only ever inserted.
 * It must never be given a token, password or message body in detail: callers
 * write what happened ("invited by sms"), not the secret that made it happen.
 */
#include "store/store.h"

#include "lib/util.h"

int store_audit(struct store_conn *c, int64_t org_id, const char *actor_kind, int64_t actor_id,
                const char *action, const char *subject_kind, int64_t subject_id, const char *ip,
                const char *detail)
{
	if (actor_kind == NULL || action == NULL)
		return STORE_INVALID;
	return store_exec(c, NULL,
	                  "INSERT INTO audit_events (org_id, actor_kind, actor_id, action, "
	                  "subject_kind, subject_id, ip, detail, created_at) "
	                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                  "ItIttIttI", org_id, actor_kind, actor_id, action, subject_kind,
	                  subject_id, ip, detail, now_utc());
}
