/*
 * comms/purge: old message texts leave the outbox (see comms_outbox_purge).
 *
 * An empty body marks a purged message: a real message always has a text, so
 * the Messages page can say the text was removed and the retry of a dead
 * message can refuse to send nothing. Organisations are few and each gets
 * its own period, so the work goes organisation by organisation, in batches
 * of PURGE_BATCH rows per statement; two nodes running it at once only
 * repeat work that is already done.
 */
#include "comms/outbox.h"

#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <string.h>

enum { PURGE_BATCH = 500 };

struct org_days {
	int64_t org;
	int64_t days;
};

/* Every organisation with its period; *n of them in *out (arena). */
static int periods(struct store_conn *c, struct org_days **out, int *n, struct arena *a)
{
	struct store_stmt *s = NULL;
	int cap = 16, rc;
	*n = 0;
	*out = arena_alloc(a, sizeof(**out) * (size_t)cap);
	rc = store_query(c, &s,
	                 "SELECT o.id, k.value FROM organisations o LEFT JOIN org_settings k "
	                 "ON k.org_id = o.id AND k.key = 'message_keep_days' ORDER BY o.id",
	                 "");
	if (rc != 0)
		return rc;
	while ((rc = store_step(s)) == 1) {
		if (*n == cap) {
			struct org_days *more = arena_alloc(a, sizeof(*more) * (size_t)cap * 2);
			memcpy(more, *out, sizeof(*more) * (size_t)cap);
			*out = more;
			cap *= 2;
		}
		int64_t days = COMMS_KEEP_DAYS_DEFAULT;
		const char *v = store_col_text(s, 1);
		if (v != NULL && parse_i64(v, 1, COMMS_KEEP_DAYS_MAX, &days) != 0)
			days = COMMS_KEEP_DAYS_DEFAULT; /* malformed: as if missing */
		(*out)[(*n)++] = (struct org_days){store_col_int(s, 0), days};
	}
	store_done(s);
	return rc < 0 ? rc : 0;
}

int comms_outbox_purge(struct store *st, int64_t now, int *removed)
{
	struct arena *a = arena_create();
	struct store_conn *c = store_acquire(st);
	struct org_days *orgs = NULL;
	int64_t changed = 0, total = 0;
	int n = 0, rc;

	if ((rc = periods(c, &orgs, &n, a)) != 0)
		goto out;
	for (int i = 0; i < n && rc == 0; i++) {
		do {
			rc = store_exec(c, &changed,
			                "UPDATE messages SET body = '', subject = NULL WHERE id IN "
			                "(SELECT id FROM messages WHERE org_id = ? AND state IN "
			                "('sent', 'dead') AND body <> '' AND "
			                "COALESCE(sent_at, created_at) < ? ORDER BY id LIMIT ?)",
			                "iii", orgs[i].org, now - orgs[i].days * 86400,
			                (int64_t)PURGE_BATCH);
			if (rc == 0)
				total += changed;
		} while (rc == 0 && changed == PURGE_BATCH);
	}
out:
	store_release(c);
	arena_free(a);
	if (removed != NULL)
		*removed = (int)total;
	return rc;
}
