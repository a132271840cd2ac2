/*
 * Shared fixture for the store tests: a fresh database, migrated, with one
 * portal and two customer organisations (ORG_A, ORG_B) so tenant isolation
 * can be checked.
 *
 * The backend is chosen by the environment: with INVITO_TEST_PG set (a
 * postgresql:// URL to a server where we may create databases, as
 * scripts/pg-test.sh exports) every test gets its own new PostgreSQL schema,
 * dropped at teardown; otherwise an SQLite file in its own temporary
 * directory. fx_url is what store_open() takes in either case.
 */
#ifndef INVITO_TEST_STORE_FIXTURE_H
#define INVITO_TEST_STORE_FIXTURE_H

#include "lib/arena.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FX_UNUSED __attribute__((unused))
static char fx_dir[64];
static char fx_path[128];
static FX_UNUSED char fx_url[512]; /* the test database: fx_path or a postgresql:// URL */
static char fx_pgdb[64];           /* the PostgreSQL schema of this test, "" if none */
static unsigned fx_pgseq;
static FX_UNUSED struct store *fx_store;
static FX_UNUSED struct store_conn *fx_conn;
static FX_UNUSED struct arena *fx_arena;
static FX_UNUSED int64_t ORG_A, ORG_B, PORTAL;

static inline const char *fx_pg(void)
{
	const char *u = getenv("INVITO_TEST_PG");
	return u != NULL && *u != '\0' ? u : NULL;
}

/* Runs one command on the server's maintenance connection (INVITO_TEST_PG). */
static inline void fx_pg_admin(const char *sql)
{
	PGconn *pg = PQconnectdb(fx_pg());
	cr_assert_eq(PQstatus(pg), CONNECTION_OK, "%s", PQerrorMessage(pg));
	PGresult *res = PQexec(pg, sql);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s: %s", sql,
	             PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(pg);
}

/*
 * A new, empty database: on PostgreSQL a new schema "invito_t<pid>_<n>" (tests
 * run in their own processes) in the INVITO_TEST_PG database, reached through
 * a URL that puts it first on the search_path: every table the test and its
 * migrations create lives there. A schema costs a millisecond where CREATE
 * DATABASE costs 200. On SQLite a file in a new temporary directory.
 * Sets fx_url.
 */
static inline void fx_paths(void)
{
	const char *pg = fx_pg();
	if (pg == NULL) {
		snprintf(fx_dir, sizeof(fx_dir), "/tmp/invito-store-XXXXXX");
		cr_assert_not_null(mkdtemp(fx_dir));
		snprintf(fx_path, sizeof(fx_path), "%s/t.db", fx_dir);
		snprintf(fx_url, sizeof(fx_url), "%s", fx_path);
		return;
	}
	snprintf(fx_pgdb, sizeof(fx_pgdb), "invito_t%ld_%u", (long)getpid(), fx_pgseq++);
	char sql[128];
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", fx_pgdb);
	fx_pg_admin(sql);
	int n = snprintf(fx_url, sizeof(fx_url), "%s%coptions=-csearch_path%%3D%s", pg,
	                 strchr(pg, '?') ? '&' : '?', fx_pgdb);
	cr_assert_lt(n, (int)sizeof(fx_url));
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
		char sql[128];
		snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", fx_pgdb);
		fx_pg_admin(sql);
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
