/* Tests for src/store/migrate.c: embedded migrations apply once and are recorded, on each backend.
 */
#include "fixture.h"

#include "lib/embed.h"

#include <pthread.h>
#include <string.h>

static int count_migrations(const char *backend)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "src/store/migrations/%s/", backend);
	int n = 0;
	for (size_t i = 0; i < embed_count; i++)
		if (strncmp(embed_files[i].path, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

Test(store_migrate, same_versions_on_every_backend)
{
	/* The numbers and names must match file for file: NNN_name.sql in sqlite/ and pg/. */
	const char *sq = "src/store/migrations/sqlite/", *pg = "src/store/migrations/pg/";
	cr_assert_eq(count_migrations("sqlite"), count_migrations("pg"));
	for (size_t i = 0; i < embed_count; i++) {
		if (strncmp(embed_files[i].path, sq, strlen(sq)) != 0)
			continue;
		char twin[256];
		snprintf(twin, sizeof(twin), "%s%s", pg, embed_files[i].path + strlen(sq));
		int found = 0;
		for (size_t j = 0; j < embed_count; j++)
			found |= strcmp(embed_files[j].path, twin) == 0;
		cr_assert(found, "%s has no twin %s", embed_files[i].path, twin);
	}
}

Test(store_migrate, apply_then_idempotent)
{
	fx_paths();
	struct store *st = NULL;
	cr_assert_eq(store_open(&st, fx_url, 2), 0);
	int n = count_migrations(store_backend_name(st));
	cr_assert_gt(n, 0);
	cr_assert_eq(store_last_applied(st), n);
	int v = store_schema_version(st);
	cr_assert_geq(v, 1);
	int applied = -1;
	cr_assert_eq(store_migrate(st, &applied), 0);
	cr_assert_eq(applied, 0);
	cr_assert_eq(store_schema_version(st), v);
	store_free(st);

	/* Reopened ("sqlite:" URL on SQLite): nothing left to apply, and the record is intact. */
	char url[600];
	if (fx_pg())
		snprintf(url, sizeof(url), "%s", fx_url);
	else
		snprintf(url, sizeof(url), "sqlite:%s", fx_path);
	cr_assert_eq(store_open(&st, url, 1), 0);
	cr_assert_eq(store_last_applied(st), 0);
	struct store_conn *c = store_acquire(st);
	int64_t rows = 0;
	cr_assert_eq(store_scalar(c, &rows, "SELECT COUNT(*) FROM schema_migrations", ""), 0);
	cr_assert_eq(rows, n);
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(c, &s, "SELECT name FROM schema_migrations WHERE version = 1", ""),
	             0);
	cr_assert_eq(store_step(s), 1);
	cr_assert_str_eq(store_col_text(s, 0), "schema");
	store_done(s);
	/* Every table of the domain exists. */
	const char *tables[] = {"portals",     "organisations",  "staff_users", "patients",
	                        "accounts",    "consents",       "services",    "opening_hours",
	                        "slots",       "appointments",   "payments",    "recalls",
	                        "invitations", "resets",         "templates",   "messages",
	                        "sessions",    "login_throttle", "audit_events"};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		cr_assert_eq(store_scalar(c, &rows,
		                          fx_pg()
		                              ? "SELECT COUNT(*) FROM information_schema.tables "
		                                "WHERE table_schema = current_schema() "
		                                "AND table_name = ?"
		                              : "SELECT COUNT(*) FROM sqlite_master WHERE "
		                                "type = 'table' AND name = ?",
		                          "t", tables[i]),
		             0);
		cr_assert_eq(rows, 1, "table %s", tables[i]);
	}
	store_release(c);
	store_free(st);
	fx_remove_files();
}

#define OPENERS 4

static pthread_barrier_t open_start;

static void *opener(void *arg)
{
	struct store **st = arg;
	pthread_barrier_wait(&open_start);
	return (void *)(intptr_t)store_open(st, fx_url, 1);
}

Test(store_migrate, concurrent_opens_apply_once)
{
	/* Several nodes starting at once on an empty database. */
	fx_paths();
	struct store *st[OPENERS] = {0};
	pthread_t t[OPENERS];
	pthread_barrier_init(&open_start, NULL, OPENERS);
	for (int i = 0; i < OPENERS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, opener, &st[i]), 0);
	int applied = 0;
	for (int i = 0; i < OPENERS; i++) {
		void *rc = NULL;
		pthread_join(t[i], &rc);
		cr_assert_eq((intptr_t)rc, 0, "opener %d: %s", i,
		             store_strerror((int)(intptr_t)rc));
		applied += store_last_applied(st[i]);
	}
	pthread_barrier_destroy(&open_start);
	cr_assert_eq(applied, count_migrations(store_backend_name(st[0])));
	for (int i = 0; i < OPENERS; i++)
		store_free(st[i]);
	fx_remove_files();
}
