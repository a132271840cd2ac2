/*
 * comms/outbox: queue and list messages (see outbox.h). It writes only
 * 'queued' rows and never sends: delivery belongs to the dispatcher.
 * It must never log a message body or a recipient.
 */
#include "comms/outbox.h"

#include "lib/arena.h"
#include "store/store.h"

#include <assert.h>
#include <stddef.h>

int comms_outbox_add(struct store_conn *c, int64_t org_id, int64_t patient_id, const char *kind,
                     const char *channel, const char *recipient, const char *subject,
                     const char *body, const char *dedupe_key, int64_t now, int64_t *id)
{
	int64_t got = 0;
	int rc;

	if (kind == NULL || channel == NULL || recipient == NULL || body == NULL)
		return STORE_INVALID;
	if (dedupe_key == NULL) {
		rc = store_insert(
		    c, &got,
		    "INSERT INTO messages (org_id, patient_id, kind, channel, recipient, "
		    "subject, body, state, created_at) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?) RETURNING id",
		    "iIttttti", org_id, patient_id, kind, channel, recipient, subject, body, now);
	} else {
		rc = store_insert(
		    c, &got,
		    "INSERT INTO messages (org_id, patient_id, kind, channel, recipient, "
		    "subject, body, state, dedupe_key, created_at) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?) "
		    "ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id",
		    "iItttttti", org_id, patient_id, kind, channel, recipient, subject, body,
		    dedupe_key, now);
		if (rc == STORE_CONFLICT) {
			got = 0;
			rc = 0;
		}
	}
	if (rc == 0 && id != NULL)
		*id = got;
	return rc;
}

int comms_outbox_list(struct store_conn *c, int limit, struct comms_outbox_row **rows, int *n,
                      struct arena *a)
{
	struct store_stmt *s = NULL;
	int rc = STORE_INVALID;

	*rows = NULL;
	*n = 0;
	if (limit < 1 || limit > 1000)
		goto out;
	rc = store_query(c, &s,
	                 "SELECT id, created_at, kind, channel, recipient, subject, body, state "
	                 "FROM messages ORDER BY id DESC LIMIT ?",
	                 "i", (int64_t)limit);
	if (rc != 0)
		goto out;
	struct comms_outbox_row *r = arena_alloc(a, (size_t)limit * sizeof(*r));
	int k = 0;
	while ((rc = store_step(s)) == 1) {
		assert(k < limit);
		r[k].id = store_col_int(s, 0);
		r[k].created_at = store_col_int(s, 1);
		r[k].kind = store_col_dup(s, 2, a);
		r[k].channel = store_col_dup(s, 3, a);
		r[k].recipient = store_col_dup(s, 4, a);
		r[k].subject = store_col_dup(s, 5, a);
		r[k].body = store_col_dup(s, 6, a);
		r[k].state = store_col_dup(s, 7, a);
		k++;
	}
	if (rc < 0)
		goto out;
	*rows = r;
	*n = k;
	rc = 0;
out:
	store_done(s);
	return rc;
}
