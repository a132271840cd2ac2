/*
 * Tests for booking/service: services and opening hours, and the confinement
 * of both to the organisations a staff user manages (a customer: itself and
 * its members; a member: itself).
 */
#include "fixture.h"

TestSuite(booking_service, .init = bk_setup, .fini = bk_teardown);

Test(booking_service, create_get_update_list)
{
	struct booking_actor st = bk_staff(ORG_A);
	struct booking_service s = {.org_id = ORG_A,
	                            .name = "Cardiology visit",
	                            .duration_min = 30,
	                            .kind = BOOKING_IN_PERSON,
	                            .payment = BOOKING_PAY_OPTIONAL,
	                            .price_cents = 8000,
	                            .online_booking = 1,
	                            .active = 1};
	cr_assert_eq(booking_service_create(fx_conn, &st, &s), 0);
	cr_assert_gt(s.id, 0);
	struct booking_service got;
	cr_assert_eq(booking_service_get(fx_conn, &st, s.id, &got, fx_arena), 0);
	cr_assert_str_eq(got.name, "Cardiology visit");
	cr_assert_eq(got.payment, BOOKING_PAY_OPTIONAL);
	cr_assert_eq(got.price_cents, 8000);
	cr_assert_str_eq(got.org_name, "Clinic A");

	s.name = "Video cardiology";
	s.kind = BOOKING_VIDEO;
	s.payment = BOOKING_PAY_MANDATORY;
	cr_assert_eq(booking_service_update(fx_conn, &st, &s), 0);
	cr_assert_eq(booking_service_get(fx_conn, &st, s.id, &got, fx_arena), 0);
	cr_assert_eq(got.kind, BOOKING_VIDEO);
	cr_assert_eq(got.payment, BOOKING_PAY_MANDATORY);

	/* The customer creates one at its member too. */
	int64_t at_member = bk_service(MEMBER, "Physio", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	struct booking_service *rows;
	int n;
	cr_assert_eq(booking_service_list(fx_conn, &st, 0, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(booking_service_list(fx_conn, &st, MEMBER, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(rows[0].id, at_member);
}

Test(booking_service, invalid)
{
	struct booking_actor st = bk_staff(ORG_A);
	struct booking_service s = {.org_id = ORG_A, .name = "X", .duration_min = 30};
	s.name = "";
	cr_assert_eq(booking_service_create(fx_conn, &st, &s), BOOKING_INVALID);
	s.name = "X";
	s.duration_min = 0;
	cr_assert_eq(booking_service_create(fx_conn, &st, &s), BOOKING_INVALID);
	s.duration_min = 30;
	s.payment = BOOKING_PAY_MANDATORY; /* with price 0 */
	cr_assert_eq(booking_service_create(fx_conn, &st, &s), BOOKING_INVALID);
	s.payment = BOOKING_PAY_NONE;
	s.price_cents = -1;
	cr_assert_eq(booking_service_create(fx_conn, &st, &s), BOOKING_INVALID);
}

Test(booking_service, confined_to_managed_organisations)
{
	int64_t a = bk_service(ORG_A, "A visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t m = bk_service(MEMBER, "M visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	struct booking_actor b = bk_staff(ORG_B), mem = bk_staff(MEMBER);
	struct booking_service got;
	cr_assert_eq(booking_service_get(fx_conn, &b, a, &got, fx_arena), BOOKING_NOTFOUND);
	cr_assert_eq(booking_service_get(fx_conn, &b, m, &got, fx_arena), BOOKING_NOTFOUND);
	/* A member's staff see their own, not their customer's. */
	cr_assert_eq(booking_service_get(fx_conn, &mem, m, &got, fx_arena), 0);
	cr_assert_eq(booking_service_get(fx_conn, &mem, a, &got, fx_arena), BOOKING_NOTFOUND);
	struct booking_service upd = {
	    .id = a, .org_id = ORG_A, .name = "Hacked", .duration_min = 5};
	cr_assert_eq(booking_service_update(fx_conn, &b, &upd), BOOKING_NOTFOUND);
	cr_assert_eq(booking_service_update(fx_conn, &mem, &upd), BOOKING_NOTFOUND);
	struct booking_service mine = {.org_id = ORG_A, .name = "Mine", .duration_min = 5};
	cr_assert_eq(booking_service_create(fx_conn, &b, &mine), BOOKING_NOTFOUND);
	cr_assert_eq(booking_service_create(fx_conn, &mem, &mine), BOOKING_NOTFOUND);
	struct booking_service *rows;
	int n;
	cr_assert_eq(booking_service_list(fx_conn, &b, 0, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 0);
	/* Patients never create. */
	struct booking_actor p = bk_patient(PORTAL, ALICE);
	cr_assert_eq(booking_service_create(fx_conn, &p, &mine), BOOKING_NOTFOUND);
}

Test(booking_service, patients_see_bookable_services_of_their_portal)
{
	int64_t a = bk_service(ORG_A, "A visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t m = bk_service(MEMBER, "M visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t c = bk_service(ORG_C, "C visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	struct booking_actor st = bk_staff(ORG_A);
	struct booking_service hidden = {.org_id = ORG_A,
	                                 .name = "Phone only",
	                                 .duration_min = 10,
	                                 .online_booking = 0,
	                                 .active = 1};
	cr_assert_eq(booking_service_create(fx_conn, &st, &hidden), 0);
	struct booking_actor p = bk_patient(PORTAL, ALICE);
	struct booking_service got;
	cr_assert_eq(booking_service_get(fx_conn, &p, a, &got, fx_arena), 0);
	cr_assert_eq(booking_service_get(fx_conn, &p, m, &got, fx_arena), 0);
	cr_assert_eq(booking_service_get(fx_conn, &p, c, &got, fx_arena), BOOKING_NOTFOUND);
	cr_assert_eq(booking_service_get(fx_conn, &p, hidden.id, &got, fx_arena), BOOKING_NOTFOUND);
	struct booking_actor p2 = bk_patient(PORTAL2, CAROL);
	cr_assert_eq(booking_service_get(fx_conn, &p2, c, &got, fx_arena), 0);
	cr_assert_eq(booking_service_get(fx_conn, &p2, a, &got, fx_arena), BOOKING_NOTFOUND);
}

Test(booking_service, hours_set_get_and_checks)
{
	int64_t a = bk_service(ORG_A, "A visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	struct booking_actor st = bk_staff(ORG_A);
	struct booking_hours h[] = {
	    {.weekday = 0, .start_min = 540, .end_min = 780, .slot_min = 30, .capacity = 1},
	    {.weekday = 0, .start_min = 840, .end_min = 1080, .slot_min = 30, .capacity = 2},
	    {.weekday = 2, .start_min = 540, .end_min = 600, .slot_min = 20, .capacity = 1},
	};
	cr_assert_eq(booking_hours_set(fx_conn, &st, a, ORG_A, h, 3), 0);
	/* The customer's service at its member's place. */
	cr_assert_eq(booking_hours_set(fx_conn, &st, a, MEMBER, h, 1), 0);
	struct booking_hours *rows;
	int n;
	cr_assert_eq(booking_hours_get(fx_conn, &st, a, ORG_A, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(rows[1].start_min, 840);
	cr_assert_eq(rows[1].capacity, 2);
	/* Replacing, not appending. */
	cr_assert_eq(booking_hours_set(fx_conn, &st, a, ORG_A, &h[2], 1), 0);
	cr_assert_eq(booking_hours_get(fx_conn, &st, a, ORG_A, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 1);

	struct booking_hours overlap[] = {
	    {.weekday = 1, .start_min = 540, .end_min = 700, .slot_min = 30, .capacity = 1},
	    {.weekday = 1, .start_min = 690, .end_min = 800, .slot_min = 30, .capacity = 1},
	};
	cr_assert_eq(booking_hours_set(fx_conn, &st, a, ORG_A, overlap, 2), BOOKING_INVALID);
	struct booking_hours bad = {
	    .weekday = 7, .start_min = 0, .end_min = 60, .slot_min = 30, .capacity = 1};
	cr_assert_eq(booking_hours_set(fx_conn, &st, a, ORG_A, &bad, 1), BOOKING_INVALID);
	bad = (struct booking_hours){0, 600, 540, 30, 1};
	cr_assert_eq(booking_hours_set(fx_conn, &st, a, ORG_A, &bad, 1), BOOKING_INVALID);

	/* Another organisation: its staff cannot; ours cannot put our service at its place. */
	struct booking_actor b = bk_staff(ORG_B);
	cr_assert_eq(booking_hours_set(fx_conn, &b, a, ORG_A, h, 1), BOOKING_NOTFOUND);
	cr_assert_eq(booking_hours_set(fx_conn, &b, a, ORG_B, h, 1), BOOKING_NOTFOUND);
	cr_assert_eq(booking_hours_set(fx_conn, &st, a, ORG_B, h, 1), BOOKING_NOTFOUND);
	cr_assert_eq(booking_hours_get(fx_conn, &b, a, ORG_A, &rows, &n, fx_arena),
	             BOOKING_NOTFOUND);
}
