/*
 * Tests for cli/user.c: `invito user add` run in-process against a fresh
 * database, with the password in INVITO_PASSWORD.
 */
#include "cli/cli.h"
#include "config.h"
#include "lib/arena.h"
#include "lib/password.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[] = "/tmp/invito-user-XXXXXX";
static char db[256];
static struct config cfg;
static int64_t org;

static void setup(void)
{
	struct store *st;
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/test.db", dir);
	cr_assert_eq(store_open(&st, db, 1), 0);
	struct store_conn *c = store_acquire(st);
	int64_t portal;
	cr_assert_eq(store_insert(c, &portal,
	                          "INSERT INTO portals (name, base_url) VALUES (?, ?) RETURNING id",
	                          "tt", "Portal", "http://127.0.0.1:8080"),
	             0);
	cr_assert_eq(store_insert(c, &org,
	                          "INSERT INTO organisations (kind, portal_id, name) VALUES "
	                          "('customer', ?, ?) RETURNING id",
	                          "it", portal, "Clinic"),
	             0);
	store_release(c);
	store_free(st);
	cfg.database = db;
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

static int run(const char *email, const char *role)
{
	char orgs[32];
	snprintf(orgs, sizeof(orgs), "%lld", (long long)org);
	char *argv[] = {"user",   "add",        "--org",  orgs,         "--email", (char *)email,
	                "--name", "Anna Admin", "--role", (char *)role, NULL};
	return cli_user(role ? 10 : 8, argv, &cfg);
}

TestSuite(user, .init = setup, .fini = teardown);

Test(user, add_then_duplicate)
{
	setenv("INVITO_PASSWORD", "a long enough password", 1);
	cr_assert_eq(run("Anna@Clinic.example", "admin"), 0);

	struct store *st;
	cr_assert_eq(store_open(&st, db, 1), 0);
	struct store_conn *c = store_acquire(st);
	struct arena *a = arena_create();
	struct store_staff s;
	cr_assert_eq(store_staff_by_email(c, "anna@clinic.example", &s, a), 0);
	cr_expect_eq(s.org_id, org);
	cr_expect_eq(s.role, STORE_ROLE_ADMIN);
	cr_expect_str_eq(s.name, "Anna Admin");
	cr_expect_eq(password_verify(s.pw_hash, "a long enough password"), 0);
	arena_free(a);
	store_release(c);
	store_free(st);

	cr_expect_eq(run("anna@clinic.example", NULL), 1);
}

Test(user, refuses_bad_input)
{
	setenv("INVITO_PASSWORD", "short", 1);
	cr_expect_eq(run("anna@clinic.example", NULL), 1);
	setenv("INVITO_PASSWORD", "a long enough password", 1);
	cr_expect_eq(run("not-an-email", NULL), 2);
	cr_expect_eq(run("anna@clinic.example", "owner"), 2);
	char *argv[] = {"user", "add", "--org", "999", "--email", "x@y.it", "--name", "X", NULL};
	cr_expect_eq(cli_user(8, argv, &cfg), 1);
	char *argv2[] = {"user", "add", "--email", "x@y.it", NULL};
	cr_expect_eq(cli_user(4, argv2, &cfg), 2);
	char *argv3[] = {"user", "remove", NULL};
	cr_expect_eq(cli_user(2, argv3, &cfg), 2);
}
