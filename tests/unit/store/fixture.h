/*
 * Shared fixture for the store tests: a fresh database, migrated, with one
 * portal and two customer organisations (ORG_A, ORG_B) so tenant isolation
 * can be checked.
 *
 * The backend is chosen by the environment: with INVITO_TEST_PG set (a
 * postgresql:// URL to a server where we may create schemas, as
 * scripts/pg-test.sh exports) every test gets its own new PostgreSQL schema
 * (tests/common/pgtest.h), dropped at teardown; otherwise an SQLite file in
 * its own temporary directory. fx_url is what store_open() takes in either case.
 */
#ifndef INVITO_TEST_STORE_FIXTURE_H
#define INVITO_TEST_STORE_FIXTURE_H

#include "lib/arena.h"
#include "store/store.h"

#include "../../common/pgtest.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FX_UNUSED __attribute__((unused))
static char fx_dir[64];
static char fx_path[128];
static FX_UNUSED char fx_url[512];    /* the test database: fx_path or a postgresql:// URL */
static char fx_pgdb[PGTEST_NAME_MAX]; /* the PostgreSQL schema of this test, "" if none */
static FX_UNUSED struct store *fx_store;
static FX_UNUSED struct store_conn *fx_conn;
static FX_UNUSED struct arena *fx_arena;
static FX_UNUSED int64_t ORG_A, ORG_B, PORTAL;

static inline const char *fx_pg(void)
{
	return pgtest_server();
}

/* Runs one command on the server's maintenance connection (INVITO_TEST_PG). */
static inline void fx_pg_admin(const char *sql)
{
	char err[512];
	cr_assert_eq(pgtest_admin(sql, err, sizeof(err)), 0, "%s", err);
}

/*
 * A new, empty database: on PostgreSQL a new schema of its own (pgtest.h); on
 * SQLite a file in a new temporary directory. Sets fx_url.
 */
static inline void fx_paths(void)
{
	if (fx_pg() == NULL) {
		snprintf(fx_dir, sizeof(fx_dir), "/tmp/invito-store-XXXXXX");
		cr_assert_not_null(mkdtemp(fx_dir));
		snprintf(fx_path, sizeof(fx_path), "%s/t.db", fx_dir);
		snprintf(fx_url, sizeof(fx_url), "%s", fx_path);
		return;
	}
	char err[512];
	cr_assert_eq(pgtest_schema_create(fx_pgdb, fx_url, sizeof(fx_url), err, sizeof(err)), 0,
	             "%s", err);
}

static inline void fx_setup(void)
{
	fx_paths();
	cr_assert_eq(store_open(&fx_store, fx_url, 4), 0);
	fx_conn = store_acquire(fx_store);
	fx_arena = arena_create();
	cr_assert_eq(store_insert(fx_conn, &PORTAL,
	                          "INSERT INTO portals (name, base_url) VALUES (?, ?) RETURNING id",
	                          "tt", "Portal", "https://portal.example"),
	             0);
	cr_assert_eq(store_insert(fx_conn, &ORG_A,
	                          "INSERT INTO organisations (kind, portal_id, name) VALUES "
	                          "('customer', ?, 'Clinic A') RETURNING id",
	                          "i", PORTAL),
	             0);
	cr_assert_eq(store_insert(fx_conn, &ORG_B,
	                          "INSERT INTO organisations (kind, portal_id, name) VALUES "
	                          "('customer', ?, 'Clinic B') RETURNING id",
	                          "i", PORTAL),
	             0);
}

/* Removes what fx_paths() created; every store on it must be closed. */
static inline void fx_remove_files(void)
{
	if (fx_pgdb[0] != '\0') {
		char err[512];
		cr_assert_eq(pgtest_schema_drop(fx_pgdb, err, sizeof(err)), 0, "%s", err);
		fx_pgdb[0] = '\0';
		return;
	}
	const char *sfx[] = {"", "-wal", "-shm"};
	char p[160];
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", fx_path, sfx[i]);
		unlink(p);
	}
	rmdir(fx_dir);
}

static inline void fx_teardown(void)
{
	store_release(fx_conn);
	fx_conn = NULL;
	store_free(fx_store);
	fx_store = NULL;
	arena_free(fx_arena);
	fx_arena = NULL;
	fx_remove_files();
}

#endif
