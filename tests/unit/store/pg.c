/*
 * Tests for src/store/pg.c: what only the PostgreSQL backend does (placeholder
 * rewriting, bytea and boolean columns, aborted transactions, SQLSTATE
 * mapping, reconnecting, the statement cache). Skipped unless INVITO_TEST_PG
 * is set (scripts/pg-test.sh sets it); the portable tests in sqlite.c,
 * patients.c, ... run on PostgreSQL too.
 */
#include "fixture.h"

#include <string.h>

static void pg_setup(void)
{
	if (fx_pg() != NULL)
		fx_setup();
}

static void pg_teardown(void)
{
	if (fx_store != NULL)
		fx_teardown();
}

TestSuite(store_pg, .init = pg_setup, .fini = pg_teardown);

#define NEED_PG()                                                                                  \
	do {                                                                                       \
		if (fx_pg() == NULL)                                                               \
			cr_skip_test("INVITO_TEST_PG is not set");                                 \
	} while (0)

Test(store_pg, backend_name)
{
	NEED_PG();
	cr_assert_str_eq(store_backend_name(fx_store), "pg");
}

Test(store_pg, question_marks_in_strings_and_comments_are_not_parameters)
{
	NEED_PG();
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(fx_conn, &s,
	                         "SELECT '?', 'it''s ?', ? /* ? */, \"?x\".v -- ?\n"
	                         "FROM (SELECT 5 AS v) \"?x\" WHERE \"?x\".v = ?",
	                         "ti", "value", (int64_t)5),
	             0);
	cr_assert_eq(store_step(s), 1);
	cr_assert_str_eq(store_col_text(s, 0), "?");
	cr_assert_str_eq(store_col_text(s, 1), "it's ?");
	cr_assert_str_eq(store_col_text(s, 2), "value");
	cr_assert_eq(store_col_int(s, 3), 5);
	cr_assert_eq(store_step(s), 0);
	store_done(s);
	/* A trailing semicolon is one statement; a second statement is refused. */
	int64_t v = 0;
	cr_assert_eq(store_scalar(fx_conn, &v, "SELECT 1; ", ""), 0);
	cr_assert_eq(store_query(fx_conn, &s, "SELECT 1; DELETE FROM portals", ""), STORE_INVALID);
}

Test(store_pg, bytea_and_boolean_columns)
{
	NEED_PG();
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(fx_conn, &s,
	                         "SELECT CAST(? AS BYTEA), EXISTS (SELECT 1), 1 = 0, "
	                         "CAST(NULL AS BYTEA)",
	                         "b", (const void *)all, sizeof(all)),
	             0);
	cr_assert_eq(store_step(s), 1);
	size_t n = 0;
	const unsigned char *b = store_col_blob(s, 0, &n);
	cr_assert_eq(n, sizeof(all));
	cr_assert_eq(memcmp(b, all, n), 0);
	cr_assert_eq(store_col_int(s, 1), 1, "true reads as 1");
	cr_assert_eq(store_col_int(s, 2), 0, "false reads as 0");
	n = 9;
	cr_assert_null(store_col_blob(s, 3, &n));
	cr_assert_eq(n, 0);
	cr_assert(store_col_is_null(s, 3));
	cr_assert(store_col_is_null(s, 99), "no such column reads as NULL");
	store_done(s);
	/* Sessions are found by their hash: a bytea parameter compared with a bytea column. */
	const unsigned char h[32] = {0, 0xff, 0x80};
	cr_assert_eq(store_session_create(fx_conn, h, STORE_SESSION_STAFF, 1, ORG_A, "c", 10), 0);
	struct store_session ses;
	cr_assert_eq(store_session_get(fx_conn, h, 11, 100, 100, &ses, fx_arena), 0);
}

Test(store_pg, error_aborts_the_transaction)
{
	NEED_PG();
	cr_assert_eq(
	    store_staff_add(fx_conn, ORG_A, "a@clinic.it", "A", "h", STORE_ROLE_ADMIN, NULL), 0);
	cr_assert_eq(store_begin(fx_conn), 0);
	cr_assert_eq(
	    store_exec(fx_conn, NULL, "INSERT INTO portals (name, base_url) VALUES ('p', 'u')", ""),
	    0);
	cr_assert_eq(
	    store_staff_add(fx_conn, ORG_A, "a@clinic.it", "A", "h", STORE_ROLE_ADMIN, NULL),
	    STORE_CONFLICT);
	/* Later statements give the first error back, and so does commit, which rolls back. */
	int64_t v = 0;
	cr_assert_eq(store_scalar(fx_conn, &v, "SELECT COUNT(*) FROM portals", ""), STORE_CONFLICT);
	cr_assert_eq(store_commit(fx_conn), STORE_CONFLICT);
	cr_assert_eq(store_scalar(fx_conn, &v, "SELECT COUNT(*) FROM portals", ""), 0);
	cr_assert_eq(v, 1, "the insert before the error was rolled back");
	/* The connection is clean for the next transaction. */
	cr_assert_eq(store_begin(fx_conn), 0);
	cr_assert_eq(store_commit(fx_conn), 0);
}

Test(store_pg, sqlstate_mapping)
{
	NEED_PG();
	int64_t v = 0;
	/* Class 22 (a value the type refuses) is a bad argument. */
	cr_assert_eq(store_scalar(fx_conn, &v, "SELECT id FROM portals WHERE id = ?", "t", "abc"),
	             STORE_INVALID);
	/* A check constraint is class 23 like unique and foreign keys. */
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE portals SET invite_ttl_days = 0 WHERE id = ?", "i", PORTAL),
	             STORE_CONFLICT);
	/* A row lock held past lock_timeout is STORE_BUSY (55P03). */
	struct store_conn *other = store_acquire(fx_store);
	cr_assert_eq(store_begin(other), 0);
	cr_assert_eq(
	    store_exec(other, NULL, "UPDATE portals SET name = 'x' WHERE id = ?", "i", PORTAL), 0);
	cr_assert_eq(store_exec(fx_conn, NULL, "SET lock_timeout = '50ms'", ""), 0);
	cr_assert_eq(
	    store_exec(fx_conn, NULL, "UPDATE portals SET name = 'y' WHERE id = ?", "i", PORTAL),
	    STORE_BUSY);
	cr_assert(store_conn_busy(fx_conn), "the timeout is remembered for the HTTP layer");
	cr_assert(!store_conn_busy(other));
	store_rollback(other);
	store_release(other);
	cr_assert_eq(store_exec(fx_conn, NULL, "SET lock_timeout = '5s'", ""), 0);
}

Test(store_pg, reconnects_a_dropped_connection)
{
	NEED_PG();
	int64_t pid = 0, v = 0;
	cr_assert_eq(store_scalar(fx_conn, &pid, "SELECT pg_backend_pid()", ""), 0);
	const char *sql = "SELECT COUNT(*) FROM organisations WHERE id = ?";
	cr_assert_eq(store_scalar(fx_conn, &v, sql, "i", ORG_A), 0);
	/* Another connection kills ours, as a server restart or a network cut would. */
	struct store_conn *killer = store_acquire(fx_store);
	cr_assert_eq(store_scalar(killer, &v,
	                          "SELECT CAST(pg_terminate_backend(CAST(? AS INT)) "
	                          "AS INT)",
	                          "i", pid),
	             0);
	cr_assert_eq(v, 1);
	store_release(killer);
	cr_assert_eq(store_scalar(fx_conn, &v, sql, "i", ORG_A), STORE_ERR);
	/* The next acquire resets it; the statement is prepared again on the new session. */
	store_release(fx_conn);
	fx_conn = NULL;
	for (int i = 0; i < 4; i++) {
		struct store_conn *c = store_acquire(fx_store);
		v = 0;
		cr_assert_eq(store_scalar(c, &v, sql, "i", ORG_A), 0);
		cr_assert_eq(v, 1);
		store_release(c);
	}
	fx_conn = store_acquire(fx_store);
	int64_t pid2 = 0;
	cr_assert_eq(store_scalar(fx_conn, &pid2, "SELECT pg_backend_pid()", ""), 0);
	cr_assert_neq(pid2, pid);
	/* Session settings come back with the new session. */
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(fx_conn, &s, "SHOW lock_timeout", ""), 0);
	cr_assert_eq(store_step(s), 1);
	cr_assert_str_eq(store_col_text(s, 0), "5s");
	store_done(s);
}

Test(store_pg, more_statements_than_the_cache_holds)
{
	NEED_PG();
	/* 300 distinct SQL texts: past the 256 kept per connection they run unprepared. */
	for (int i = 0; i < 300; i++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "SELECT CAST(? AS BIGINT) + %d", i);
		int64_t v = 0;
		cr_assert_eq(store_scalar(fx_conn, &v, sql, "i", (int64_t)1000), 0);
		cr_assert_eq(v, 1000 + i);
	}
	/* Both kinds nest, and an uncached one binds in steps like any other. */
	struct store_stmt *a = NULL, *b = NULL;
	cr_assert_eq(store_query(fx_conn, &a, "SELECT CAST(? AS BIGINT) + 299", "i", (int64_t)1),
	             0);
	cr_assert_eq(store_prepare(fx_conn, &b, "SELECT CAST(? AS BIGINT) + 299"), 0);
	cr_assert_eq(store_bind(b, "i", (int64_t)2), 0);
	cr_assert_eq(store_step(a), 1);
	cr_assert_eq(store_step(b), 1);
	cr_assert_eq(store_col_int(a, 0), 300);
	cr_assert_eq(store_col_int(b, 0), 301);
	store_done(b);
	store_done(a);
}
