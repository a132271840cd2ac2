/* Tests for src/store/sqlite.c and store.c: binding, errors, transactions, the pool. */
#include "fixture.h"

#include <pthread.h>
#include <string.h>

TestSuite(store_sqlite, .init = fx_setup, .fini = fx_teardown);

Test(store_sqlite, binds_every_type)
{
	cr_assert_eq(
	    store_exec(fx_conn, NULL, "CREATE TABLE t (i INTEGER, o INTEGER, s TEXT, b BLOB)", ""),
	    0);
	const unsigned char blob[4] = {0, 1, 0xfe, 0xff};
	int64_t id = 0;
	cr_assert_eq(store_insert(fx_conn, &id,
	                          "INSERT INTO t (i, o, s, b) VALUES (?, ?, ?, ?) RETURNING rowid",
	                          "iItb", (int64_t)1 << 40, (int64_t)0, "caffè", (const void *)blob,
	                          sizeof(blob)),
	             0);
	cr_assert_gt(id, 0);
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(fx_conn, &s, "SELECT i, o, s, b FROM t WHERE rowid = ?", "i", id),
	             0);
	cr_assert_eq(store_step(s), 1);
	cr_assert_eq(store_col_int(s, 0), (int64_t)1 << 40);
	cr_assert(store_col_is_null(s, 1));
	cr_assert_str_eq(store_col_text(s, 2), "caffè");
	cr_assert_str_eq(store_col_dup(s, 2, fx_arena), "caffè");
	size_t n = 0;
	const unsigned char *b = store_col_blob(s, 3, &n);
	cr_assert_eq(n, sizeof(blob));
	cr_assert_eq(memcmp(b, blob, n), 0);
	cr_assert_eq(store_step(s), 0);
	store_done(s);

	/* 'I' with a value binds it; 't' NULL binds NULL. */
	cr_assert_eq(store_exec(fx_conn, NULL, "INSERT INTO t (o, s) VALUES (?, ?)", "It",
	                        (int64_t)7, (const char *)NULL),
	             0);
	int64_t v = 0;
	cr_assert_eq(
	    store_scalar(fx_conn, &v, "SELECT COUNT(*) FROM t WHERE o = 7 AND s IS NULL", ""), 0);
	cr_assert_eq(v, 1);
}

Test(store_sqlite, parameter_count_must_match)
{
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(fx_conn, &s, "SELECT ?", "ii", (int64_t)1, (int64_t)2),
	             STORE_INVALID);
	cr_assert_eq(store_prepare(fx_conn, &s, "SELECT ?, ?"), 0);
	cr_assert_eq(store_bind(s, "i", (int64_t)1), 0);
	cr_assert_eq(store_step(s), STORE_INVALID); /* one left unbound */
	cr_assert_eq(store_bind(s, "t", "x"), 0);
	cr_assert_eq(store_step(s), 1);
	cr_assert_str_eq(store_col_text(s, 1), "x");
	store_done(s);
	store_done(NULL);
}

Test(store_sqlite, cached_statement_reused_and_nested)
{
	struct store_stmt *a = NULL, *b = NULL;
	const char *sql = "SELECT id FROM organisations WHERE id >= ? ORDER BY id";
	cr_assert_eq(store_query(fx_conn, &a, sql, "i", (int64_t)0), 0);
	cr_assert_eq(store_step(a), 1);
	/* The same SQL while the first is still open gets its own statement. */
	cr_assert_eq(store_query(fx_conn, &b, sql, "i", ORG_B), 0);
	cr_assert_neq(a, b);
	cr_assert_eq(store_step(b), 1);
	cr_assert_eq(store_col_int(b, 0), ORG_B);
	store_done(b);
	cr_assert_eq(store_col_int(a, 0), ORG_A);
	store_done(a);
	struct store_stmt *c = NULL;
	cr_assert_eq(store_query(fx_conn, &c, sql, "i", (int64_t)0), 0);
	cr_assert_eq(c, a, "a finished statement comes back from the cache");
	store_done(c);
}

Test(store_sqlite, unique_violation_is_conflict)
{
	cr_assert_eq(
	    store_staff_add(fx_conn, ORG_A, "x@example.it", "X", "h", STORE_ROLE_ADMIN, NULL), 0);
	cr_assert_eq(
	    store_staff_add(fx_conn, ORG_B, "X@Example.IT", "Y", "h", STORE_ROLE_RECEPTION, NULL),
	    STORE_CONFLICT);
	/* A foreign key violation is a constraint too. */
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO staff_users (org_id, email, name, pw_hash) "
	                        "VALUES (999, 'z@z.it', 'Z', 'h')",
	                        ""),
	             STORE_CONFLICT);
}

Test(store_sqlite, scalar_without_row_is_notfound)
{
	int64_t v = 42;
	cr_assert_eq(
	    store_scalar(fx_conn, &v, "SELECT id FROM portals WHERE id = ?", "i", (int64_t)999),
	    STORE_NOTFOUND);
	cr_assert_eq(v, 42);
}

Test(store_sqlite, syntax_error_is_error)
{
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(fx_conn, &s, "SELEC nothing", ""), STORE_ERR);
	cr_assert_null(s);
	cr_assert_eq(store_query(fx_conn, &s, "SELECT 1; SELECT 2", ""), STORE_INVALID);
}

static int64_t count_portals(void)
{
	int64_t v = -1;
	cr_assert_eq(store_scalar(fx_conn, &v, "SELECT COUNT(*) FROM portals", ""), 0);
	return v;
}

Test(store_sqlite, rollback_leaves_nothing)
{
	int64_t before = count_portals();
	cr_assert_eq(store_begin(fx_conn), 0);
	cr_assert_eq(store_begin(fx_conn), STORE_INVALID, "nested begin is an error");
	cr_assert_eq(
	    store_exec(fx_conn, NULL, "INSERT INTO portals (name, base_url) VALUES ('p', 'u')", ""),
	    0);
	cr_assert_eq(count_portals(), before + 1);
	store_rollback(fx_conn);
	cr_assert_eq(count_portals(), before);
	store_rollback(fx_conn); /* harmless without a transaction */
	cr_assert_eq(store_commit(fx_conn), STORE_INVALID);

	cr_assert_eq(store_begin(fx_conn), 0);
	cr_assert_eq(
	    store_exec(fx_conn, NULL, "INSERT INTO portals (name, base_url) VALUES ('p', 'u')", ""),
	    0);
	cr_assert_eq(store_commit(fx_conn), 0);
	cr_assert_eq(count_portals(), before + 1);
}

Test(store_sqlite, release_rolls_back_open_transaction)
{
	int64_t before = count_portals();
	cr_assert_eq(store_begin(fx_conn), 0);
	cr_assert_eq(
	    store_exec(fx_conn, NULL, "INSERT INTO portals (name, base_url) VALUES ('p', 'u')", ""),
	    0);
	store_release(fx_conn);
	fx_conn = store_acquire(fx_store);
	cr_assert_eq(count_portals(), before);
}

Test(store_sqlite, pragmas_are_set)
{
	struct store_stmt *s = NULL;
	cr_assert_eq(store_query(fx_conn, &s, "PRAGMA journal_mode", ""), 0);
	cr_assert_eq(store_step(s), 1);
	cr_assert_str_eq(store_col_text(s, 0), "wal");
	store_done(s);
	int64_t v = 0;
	cr_assert_eq(store_scalar(fx_conn, &v, "PRAGMA foreign_keys", ""), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(store_scalar(fx_conn, &v, "PRAGMA synchronous", ""), 0);
	cr_assert_eq(v, 2); /* FULL */
	cr_assert_str_eq(store_backend_name(fx_store), "sqlite");
}

#define THREADS 8
#define ROUNDS  25

static void *worker(void *arg)
{
	intptr_t n = (intptr_t)arg;
	for (int i = 0; i < ROUNDS; i++) {
		struct store_conn *c = store_acquire(fx_store);
		int rc = store_begin(c);
		if (rc == 0)
			rc = store_exec(c, NULL,
			                "INSERT INTO portals (name, base_url) VALUES (?, 'u')", "t",
			                n % 2 ? "odd" : "even");
		if (rc == 0)
			rc = store_commit(c);
		else
			store_rollback(c);
		store_release(c);
		if (rc != 0)
			return (void *)1;
	}
	return NULL;
}

Test(store_sqlite, pool_shared_by_threads)
{
	/* The fixture holds one of the 4 connections: 8 threads share the other 3. */
	int64_t before = count_portals();
	pthread_t t[THREADS];
	for (intptr_t i = 0; i < THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, worker, (void *)i), 0);
	for (int i = 0; i < THREADS; i++) {
		void *res = NULL;
		pthread_join(t[i], &res);
		cr_assert_null(res, "thread %d failed", i);
	}
	cr_assert_eq(count_portals(), before + THREADS * ROUNDS);
}

Test(store_sqlite, open_rejects_bad_arguments)
{
	struct store *st = (struct store *)1;
	cr_assert_eq(store_open(&st, "", 1), STORE_INVALID);
	cr_assert_null(st);
	cr_assert_eq(store_open(&st, fx_path, 0), STORE_INVALID);
	cr_assert_eq(store_open(&st, fx_path, 65), STORE_INVALID);
	cr_assert_eq(store_open(&st, "postgres://localhost/x", 1), STORE_INVALID);
	cr_assert_eq(store_open(&st, "/nonexistent-dir/x/y.db", 1), STORE_ERR);
	store_free(NULL);
	cr_assert_str_eq(store_strerror(STORE_CONFLICT),
	                 "conflict (already exists or changed meanwhile)");
}
