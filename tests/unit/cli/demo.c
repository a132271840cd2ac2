/*
 * Tests for cli/demo.c: `invito demo` run in-process on a temporary file:
 * creates once, reuses the second time, --fresh starts over; fast.
 */
#include "cli/cli.h"
#include "config.h"
#include "lib/util.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

static char dir[] = "/tmp/invito-demo-XXXXXX";
static char db[256];
static struct config cfg;

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/invito.db", dir);
	cfg.database = db;
	cfg.base_url = "http://127.0.0.1:8080";
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

static int64_t scalar(const char *sql)
{
	struct store *st;
	int64_t n = -1;
	cr_assert_eq(store_open(&st, db, 1), 0);
	struct store_conn *c = store_acquire(st);
	cr_assert_eq(store_scalar(c, &n, sql, ""), 0, "%s", sql);
	store_release(c);
	store_free(st);
	return n;
}

TestSuite(demo, .init = setup, .fini = teardown, .timeout = 30);

Test(demo, create_reuse_fresh)
{
	char *argv[] = {"demo", NULL};
	/* How long it takes is the demo's own printout, not a test's business. */
	cr_assert_eq(cli_demo(1, argv, &cfg), 0);

	int64_t patients = scalar("SELECT count(*) FROM patients");
	cr_expect_geq(patients, 300);
	cr_expect_eq(scalar("SELECT count(*) FROM patients WHERE managed_by IS NOT NULL"), 20);
	cr_expect_eq(scalar("SELECT count(*) FROM patients p JOIN accounts a ON a.patient_id = "
	                    "p.id WHERE p.managed_by IS NOT NULL"),
	             0, "family members never have an account");
	cr_expect_eq(scalar("SELECT count(*) FROM patients c JOIN patients p ON p.id = "
	                    "c.managed_by LEFT JOIN accounts a ON a.patient_id = p.id "
	                    "WHERE a.pw_hash IS NULL"),
	             0, "every parent has an account");
	cr_expect_gt(scalar("SELECT count(*) FROM patients WHERE mobile IS NULL AND email IS "
	                    "NULL AND managed_by IS NULL"),
	             0);
	int64_t with_email = scalar("SELECT count(*) FROM patients WHERE email IS NOT NULL");
	cr_expect(with_email > 180 && with_email < 260, "%lld with e-mail", (long long)with_email);
	cr_expect_eq(scalar("SELECT count(*) FROM patients WHERE family_name = 'D''Amico' OR "
	                    "family_name = 'Dell''Acqua' OR given_name IN ('Nicolò', 'Niccolò')") >
	                 0,
	             1);
	cr_expect_gt(scalar("SELECT count(*) FROM appointments a JOIN services s ON s.id = "
	                    "a.service_id WHERE a.kind = 'video' AND a.payment = 'mandatory' AND "
	                    "a.booked_via = 'offline' AND a.paid_at IS NULL AND a.start_at > "
	                    "CAST(strftime('%s','now') AS INTEGER)"),
	             0);
	cr_expect_gt(scalar("SELECT count(*) FROM appointments WHERE kind = 'video' AND "
	                    "payment = 'mandatory' AND paid_at IS NOT NULL"),
	             0);
	cr_expect_gt(scalar("SELECT count(*) FROM appointments WHERE start_at < "
	                    "CAST(strftime('%s','now') AS INTEGER)"),
	             100);
	cr_expect_gt(scalar("SELECT count(*) FROM recalls WHERE sent_at IS NULL"), 10);
	cr_expect_eq(scalar("SELECT count(*) FROM appointments a JOIN slots s ON s.id = "
	                    "a.slot_id WHERE s.booked <> 1"),
	             0);
	cr_expect_eq(scalar("SELECT count(*) FROM organisations WHERE kind = 'member'"), 1);
	cr_expect_eq(scalar("SELECT count(*) FROM staff_users WHERE email = "
	                    "'admin@sanluca.example' AND role = 'admin'"),
	             1);

	/* Same names every time. */
	int64_t sum = scalar("SELECT sum(length(family_key) * id) FROM patients");

	cr_assert_eq(cli_demo(1, argv, &cfg), 0);
	cr_expect_eq(scalar("SELECT count(*) FROM patients"), patients, "reused, not doubled");

	char *fresh[] = {"demo", "--fresh", NULL};
	cr_assert_eq(cli_demo(2, fresh, &cfg), 0);
	cr_expect_eq(scalar("SELECT count(*) FROM patients"), patients);
	cr_expect_eq(scalar("SELECT sum(length(family_key) * id) FROM patients"), sum);

	char *bad[] = {"demo", "--nope", NULL};
	cr_expect_eq(cli_demo(2, bad, &cfg), 2);
}
