/*
 * store/backup: store_backup(), a consistent copy of the database taken while
 * the server keeps running. SQLite does it with its online backup API (the
 * backend's hook, sqlite.c): the copy holds exactly the transactions committed
 * before it began. PostgreSQL has its own tools (pg_dump, base backups) and
 * is refused with a message saying so. It must never copy over the live
 * database file itself.
 */
#include "store/backend.h"

#include "lib/log.h"

int store_backup(struct store *st, const char *path)
{
	if (st == NULL || path == NULL || path[0] == '\0')
		return STORE_INVALID;
	if (st->be->backup == NULL) {
		log_error("backup: the %s backend has no online copy here; use pg_dump "
		          "(e.g. pg_dump -Fc -f FILE URL) or a base backup",
		          st->be->name);
		return STORE_INVALID;
	}
	struct store_conn *c = store_acquire(st);
	int rc = st->be->backup(c, path);
	store_release(c);
	return rc;
}
