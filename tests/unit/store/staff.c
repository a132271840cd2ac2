/* Tests for src/store/staff.c: add, lookup by e-mail in any case, failed sign-ins lock. */
#include "fixture.h"

TestSuite(store_staff, .init = fx_setup, .fini = fx_teardown);

Test(store_staff, add_and_lookup)
{
	int64_t id = 0;
	cr_assert_eq(store_staff_add(fx_conn, ORG_A, "Anna.Admin@Clinic.IT", "Anna", "$argon2id$x",
	                             STORE_ROLE_ADMIN, &id),
	             0);
	struct store_staff s;
	cr_assert_eq(store_staff_by_email(fx_conn, "anna.admin@clinic.it", &s, fx_arena), 0);
	cr_assert_eq(s.id, id);
	cr_assert_eq(s.org_id, ORG_A);
	cr_assert_str_eq(s.email, "anna.admin@clinic.it");
	cr_assert_str_eq(s.pw_hash, "$argon2id$x");
	cr_assert_eq(s.role, STORE_ROLE_ADMIN);
	cr_assert_eq(store_staff_by_email(fx_conn, "ANNA.ADMIN@CLINIC.IT", &s, fx_arena), 0);
	cr_assert_eq(store_staff_by_email(fx_conn, "nobody@clinic.it", &s, fx_arena),
	             STORE_NOTFOUND);
	cr_assert_eq(store_staff_get(fx_conn, id, &s, fx_arena), 0);
	cr_assert_str_eq(s.name, "Anna");
	cr_assert_eq(store_staff_get(fx_conn, id + 1, &s, fx_arena), STORE_NOTFOUND);
}

Test(store_staff, failed_logins_lock)
{
	int64_t id = 0;
	cr_assert_eq(store_staff_add(fx_conn, ORG_A, "r@c.it", "R", "h", STORE_ROLE_RECEPTION, &id),
	             0);
	struct store_staff s;
	for (int i = 1; i <= 4; i++) {
		cr_assert_eq(store_staff_login_failed(fx_conn, id, 1000, 5, 900), 0);
		cr_assert_eq(store_staff_get(fx_conn, id, &s, fx_arena), 0);
		cr_assert_eq(s.failed_logins, i);
		cr_assert_eq(s.locked_until, 0);
	}
	cr_assert_eq(store_staff_login_failed(fx_conn, id, 1000, 5, 900), 0);
	cr_assert_eq(store_staff_get(fx_conn, id, &s, fx_arena), 0);
	cr_assert_eq(s.locked_until, 1900, "the fifth failure locks");
	cr_assert_eq(s.failed_logins, 0, "and starts the count again");
	cr_assert_eq(store_staff_login_ok(fx_conn, id, 2000), 0);
	cr_assert_eq(store_staff_get(fx_conn, id, &s, fx_arena), 0);
	cr_assert_eq(s.locked_until, 0);
	cr_assert_eq(store_staff_login_failed(fx_conn, 999, 1, 5, 900), STORE_NOTFOUND);
}
