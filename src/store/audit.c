/*
 * store/audit: the append-only record of who did what to whom, when, from
 * where. Rows are only ever inserted.
 * It must never be given a token, password or message body in detail: callers
 * write what happened ("invited by sms"), not the secret that made it happen.
 */
#include "store/store.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"

#include <string.h>

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

/*
 * Newest first over the index audit_events_org (org_id, created_at), whose
 * entries end with the row id on SQLite: the keyset (created_at, id) walks it
 * in order without a sort, however many events an organisation has. A prefix
 * is compared with substr(), not LIKE, so "_" and "%" in it mean themselves.
 * The SQL is built from constant fragments only.
 */
int store_audit_list(struct store_conn *c, int64_t org_id, const struct store_audit_filter *f,
                     struct store_audit_row **rows, int *n, int *more, struct arena *a)
{
	struct store_stmt *s = NULL;
	struct buf sql;
	int rc, k = 0;

	*rows = NULL;
	*n = *more = 0;
	if (f->limit < 1 || f->limit > 200 || f->nprefixes < 0 ||
	    f->nprefixes > STORE_AUDIT_PREFIXES_MAX || f->before_at < 0 || f->before_id < 0)
		return STORE_INVALID;
	for (int i = 0; i < f->nprefixes; i++)
		if (f->prefixes[i] == NULL || f->prefixes[i][0] == '\0')
			return STORE_INVALID;
	buf_init(&sql, 0);
	buf_puts(&sql, "SELECT e.id, e.created_at, COALESCE(e.actor_id, 0), "
	               "COALESCE(e.subject_id, 0), e.actor_kind, s.name, e.action, e.subject_kind, "
	               "e.ip, e.detail FROM audit_events e LEFT JOIN staff_users s ON "
	               "e.actor_kind = 'staff' AND s.id = e.actor_id WHERE e.org_id = ?");
	for (int i = 0; i < f->nprefixes; i++)
		buf_puts(&sql, i == 0 ? " AND (substr(e.action, 1, ?) = ?"
		                      : " OR substr(e.action, 1, ?) = ?");
	if (f->nprefixes > 0)
		buf_puts(&sql, ")");
	if (f->before_at > 0)
		/* the first term is the index range, the second drops its top's earlier rows */
		buf_puts(&sql, " AND e.created_at <= ? AND (e.created_at < ? OR e.id < ?)");
	buf_puts(&sql, " ORDER BY e.created_at DESC, e.id DESC LIMIT ?");
	rc = store_prepare(c, &s, sql.data);
	if (rc == 0)
		rc = store_bind(s, "i", org_id);
	for (int i = 0; rc == 0 && i < f->nprefixes; i++)
		rc = store_bind(s, "it", (int64_t)strlen(f->prefixes[i]), f->prefixes[i]);
	if (rc == 0 && f->before_at > 0)
		rc = store_bind(s, "iii", f->before_at, f->before_at, f->before_id);
	if (rc == 0)
		rc = store_bind(s, "i", (int64_t)f->limit + 1);
	struct store_audit_row *r = arena_alloc(a, (size_t)f->limit * sizeof(*r));
	while (rc == 0 && (rc = store_step(s)) == 1) {
		rc = 0;
		if (k == f->limit) {
			*more = 1;
			continue;
		}
		struct store_audit_row *x = &r[k++];
		x->id = store_col_int(s, 0);
		x->created_at = store_col_int(s, 1);
		x->actor_id = store_col_int(s, 2);
		x->subject_id = store_col_int(s, 3);
		x->actor_kind = store_col_dup(s, 4, a);
		x->actor_name = store_col_dup(s, 5, a);
		x->action = store_col_dup(s, 6, a);
		x->subject_kind = store_col_dup(s, 7, a);
		x->ip = store_col_dup(s, 8, a);
		x->detail = store_col_dup(s, 9, a);
	}
	store_done(s);
	buf_free(&sql);
	if (rc < 0)
		return rc;
	*rows = r;
	*n = k;
	return 0;
}
