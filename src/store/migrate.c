/*
 * store/migrate: numbered schema migrations embedded in the binary.
 *
 * Each backend has its own folder, src/store/migrations/<backend>/, of files
 * named NNN_name.sql (NNN the version, the same numbers on every backend).
 * schema_migrations(version, name, applied_at) records what ran. Each
 * migration runs in its own write transaction, which also re-checks that it
 * is still pending, so two processes starting at once apply it exactly once.
 * It must never edit or skip an applied migration: a change is a new file.
 */
#include "store/backend.h"

#include "lib/embed.h"
#include "lib/log.h"
#include "lib/util.h"

#include <stdio.h>
#include <string.h>

static const char create_table[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                   " version INTEGER PRIMARY KEY,"
                                   " name TEXT NOT NULL,"
                                   " applied_at BIGINT NOT NULL)";

struct migration {
	int version;
	char name[96];
	const char *sql;
};

/* Parses ".../NNN_name.sql" into m; -1 when the file name is not a migration. */
static int parse_name(const char *file, struct migration *m)
{
	const char *p = file;
	int v = 0, digits = 0;
	while (*p >= '0' && *p <= '9' && digits < 6) {
		v = v * 10 + (*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || *p != '_' || v <= 0)
		return -1;
	const char *name = p + 1;
	size_t n = strlen(name);
	if (n <= 4 || strcmp(name + n - 4, ".sql") != 0 || n - 4 >= sizeof(m->name))
		return -1;
	m->version = v;
	memcpy(m->name, name, n - 4);
	m->name[n - 4] = '\0';
	return 0;
}

static int apply_one(struct store_conn *c, const struct migration *m, int *applied)
{
	int rc = store_begin(c);
	if (rc != 0)
		return rc;
	int64_t seen = 0;
	rc = store_scalar(c, &seen, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", "i",
	                  (int64_t)m->version);
	if (rc != 0)
		goto out;
	if (seen == 0) {
		if ((rc = c->be->script(c, m->sql)) != 0) {
			log_error("store: migration %03d_%s failed: %s", m->version, m->name,
			          store_strerror(rc));
			goto out;
		}
		rc = store_exec(c, NULL,
		                "INSERT INTO schema_migrations (version, name, applied_at) "
		                "VALUES (?, ?, ?)",
		                "iti", (int64_t)m->version, m->name, now_utc());
		if (rc != 0)
			goto out;
	}
	if ((rc = store_commit(c)) != 0)
		goto out;
	if (seen == 0) {
		log_info("store: applied migration %03d_%s", m->version, m->name);
		(*applied)++;
	}
	return 0;
out:
	store_rollback(c);
	return rc;
}

int store_migrate_conn(struct store_conn *c, int *applied)
{
	int rc = -1;
	int count = 0;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "src/store/migrations/%s/", c->be->name);
	size_t plen = strlen(prefix);
	if ((rc = c->be->script(c, create_table)) != 0)
		goto out;
	int last = 0;
	/* embed_files is sorted by path, and versions are zero-padded: ascending order. */
	for (size_t i = 0; i < embed_count; i++) {
		const struct embed_file *f = &embed_files[i];
		if (strncmp(f->path, prefix, plen) != 0)
			continue;
		struct migration m;
		if (parse_name(f->path + plen, &m) != 0) {
			log_warn("store: %s is not named NNN_name.sql: ignored", f->path);
			continue;
		}
		if (m.version <= last) {
			log_error("store: migration %s repeats or reorders version %d", f->path,
			          m.version);
			rc = STORE_ERR;
			goto out;
		}
		last = m.version;
		m.sql = f->data;
		if ((rc = apply_one(c, &m, &count)) != 0)
			goto out;
	}
	int version = 0;
	if ((rc = store_schema_version_conn(c, &version)) != 0)
		goto out;
	if (version > last)
		log_warn("store: database schema %d is newer than this binary knows (%d)", version,
		         last);
	rc = 0;
out:
	if (applied != NULL)
		*applied = count;
	return rc;
}

int store_schema_version_conn(struct store_conn *c, int *version)
{
	int64_t v = 0;
	int rc = store_scalar(c, &v, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", "");
	if (rc == 0)
		*version = (int)v;
	return rc;
}
