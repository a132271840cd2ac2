/*
 * Tests for cli/migrate_to.c: the demo data, written by `invito demo` into a
 * temporary SQLite file (plus a session, for a bytea column), is copied by
 * `invito migrate-to` into a fresh PostgreSQL schema; counts, rows, ids,
 * self-references and sequences are compared. A second run into the same
 * target is refused. Needs INVITO_TEST_PG (make unit-pg); skipped otherwise.
 */
#include "../../common/pgtest.h"
#include "cli/cli.h"
#include "config.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[] = "/tmp/invito-migrate-to-XXXXXX";
static char db[256], target[1024], schema[PGTEST_NAME_MAX];
static struct config cfg;

static void setup(void)
{
	if (pgtest_server() == NULL)
		return;
	char err[512];
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/invito.db", dir);
	cfg.database = db;
	cfg.base_url = "http://127.0.0.1:8080";
	cr_assert_eq(pgtest_schema_create(schema, target, sizeof(target), err, sizeof(err)), 0,
	             "%s", err);
}

static void teardown(void)
{
	if (pgtest_server() == NULL)
		return;
	char err[512], cmd[300];
	cr_expect_eq(pgtest_schema_drop(schema, err, sizeof(err)), 0, "%s", err);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(cli_migrate_to, .init = setup, .fini = teardown, .timeout = 60);

static int64_t scalar(struct store_conn *c, const char *sql)
{
	int64_t n = -1;
	cr_assert_eq(store_scalar(c, &n, sql, ""), 0, "%s", sql);
	return n;
}

/* Every row of sql (one text column) is the same, in the same order, on both sides. */
static void same_rows(struct store_conn *a, struct store_conn *b, const char *sql)
{
	struct store_stmt *x = NULL, *y = NULL;
	int rx, ry, n = 0;
	cr_assert_eq(store_query(a, &x, sql, ""), 0, "%s", sql);
	cr_assert_eq(store_query(b, &y, sql, ""), 0, "%s", sql);
	for (;;) {
		rx = store_step(x);
		ry = store_step(y);
		cr_assert_eq(rx, ry, "row %d of %s", n, sql);
		if (rx != 1)
			break;
		const char *tx = store_col_text(x, 0), *ty = store_col_text(y, 0);
		cr_assert_str_eq(tx ? tx : "(null)", ty ? ty : "(null)", "row %d of %s", n, sql);
		n++;
	}
	cr_assert_gt(n, 0, "%s returned rows", sql);
	store_done(x);
	store_done(y);
}

Test(cli_migrate_to, demo_data_moves_to_postgresql_whole)
{
	if (pgtest_server() == NULL)
		cr_skip_test("INVITO_TEST_PG is not set");
	char *demo[] = {"demo", NULL};
	cr_assert_eq(cli_demo(1, demo, &cfg), 0);

	/* A session: a bytea column (token hash) and a staff row it refers to. */
	struct store *src = NULL;
	cr_assert_eq(store_open(&src, db, 1), 0);
	struct store_conn *s = store_acquire(src);
	unsigned char hash[32];
	for (int i = 0; i < 32; i++)
		hash[i] = (unsigned char)(i * 37 + 1); /* NUL-free and non-ASCII bytes */
	hash[5] = 0;
	int64_t staff = scalar(s, "SELECT MIN(id) FROM staff_users");
	int64_t org = scalar(s, "SELECT MIN(id) FROM organisations");
	cr_assert_eq(store_session_create(s, hash, STORE_SESSION_STAFF, staff, org, "ab", 1000), 0);
	store_release(s);
	store_free(src);

	/* Small batches: the tail of every table takes the shorter statement. */
	char *argv[] = {"migrate-to", target, "--batch", "7", NULL};
	cr_assert_eq(cli_migrate_to(4, argv, &cfg), 0);

	struct store *dst = NULL;
	cr_assert_eq(store_open(&src, db, 1), 0);
	cr_assert_eq(store_open(&dst, target, 2), 0);
	cr_assert_str_eq(store_backend_name(dst), "pg");
	s = store_acquire(src);
	struct store_conn *d = store_acquire(dst);
	static const char *const tables[] = {
	    "portals",  "organisations", "staff_users",  "patients", "accounts", "consents",
	    "services", "slots",         "appointments", "payments", "recalls",  "sessions"};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", tables[i]);
		cr_expect_eq(scalar(s, sql), scalar(d, sql), "%s", tables[i]);
	}
	cr_assert_geq(scalar(d, "SELECT COUNT(*) FROM patients"), 300);
	same_rows(s, d,
	          "SELECT id || '|' || given_name || '|' || family_name || '|' || "
	          "COALESCE(email, '-') || '|' || COALESCE(mobile, '-') || '|' || "
	          "COALESCE(managed_by, 0) FROM patients ORDER BY id");
	same_rows(s, d,
	          "SELECT id || '|' || patient_id || '|' || start_at || '|' || "
	          "COALESCE(paid_at, -1) || '|' || COALESCE(slot_id, 0) FROM appointments "
	          "ORDER BY id");
	same_rows(s, d, "SELECT login || '|' || pw_hash FROM accounts ORDER BY id");
	cr_expect_eq(scalar(d, "SELECT COUNT(*) FROM patients WHERE managed_by IS NOT NULL"), 20,
	             "family links (a self-reference) survive");

	/* The bytea column, byte for byte. */
	struct arena *a = arena_create();
	struct store_session sess;
	cr_assert_eq(store_session_get(d, hash, 1001, 1000000, 1000000, &sess, a), 0);
	cr_expect_eq(sess.user_id, staff);
	arena_free(a);

	/* Sequences moved past the copied ids: a new row does not collide. */
	int64_t max = scalar(d, "SELECT MAX(id) FROM patients"), id = 0;
	cr_assert_eq(store_insert(d, &id,
	                          "INSERT INTO patients (org_id, given_name, family_name, "
	                          "family_key, search_key, search_key_fg, lang, created_at, "
	                          "updated_at) VALUES (?, 'Nuovo', 'Paziente', 'paziente', "
	                          "'nuovo', 'paziente', 'it', 0, 0) RETURNING id",
	                          "i", org),
	             0);
	cr_expect_gt(id, max);
	store_release(s);
	store_release(d);
	store_free(src);
	store_free(dst);

	/* The target now has rows: a second run is refused and changes nothing. */
	cr_expect_eq(cli_migrate_to(2, argv, &cfg), 1);
}

Test(cli_migrate_to, refuses_a_target_that_is_not_postgresql)
{
	if (pgtest_server() == NULL)
		cr_skip_test("INVITO_TEST_PG is not set");
	char *argv[] = {"migrate-to", db, NULL};
	cr_expect_eq(cli_migrate_to(2, argv, &cfg), 2);
	char *none[] = {"migrate-to", NULL};
	cr_expect_eq(cli_migrate_to(1, none, &cfg), 2);
}
