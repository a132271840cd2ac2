/*
 * Fixture for the booking tests, on top of the store fixture (SQLite, or
 * PostgreSQL when INVITO_TEST_PG is set): besides PORTAL, ORG_A and ORG_B it
 * adds MEMBER (a member of ORG_A on PORTAL), a second portal PORTAL2 with its
 * customer ORG_C, a staff user of ORG_A, and patients of ORG_A: ALICE (with an
 * account), CHILD (managed by ALICE) and BOB; CAROL is ORG_C's patient.
 * NOW is a fixed clock (2030-01-07 08:00 UTC, a Monday) so tests never race
 * the real one.
 */
#ifndef INVITO_TEST_BOOKING_FIXTURE_H
#define INVITO_TEST_BOOKING_FIXTURE_H

#include "../store/fixture.h"

#include "booking/booking.h"
#include "booking/tz.h"

#define BK_NOW ((int64_t)1894003200) /* 2030-01-07T08:00:00Z */

static FX_UNUSED int64_t MEMBER, PORTAL2, ORG_C, STAFF_A, ALICE, CHILD, BOB, CAROL;

static inline int64_t bk_add_patient(int64_t org, const char *given, int64_t managed_by)
{
	int64_t id = 0;
	cr_assert_eq(
	    store_insert(fx_conn, &id,
	                 "INSERT INTO patients (org_id, given_name, family_name, family_key, "
	                 "search_key, search_key_fg, managed_by) VALUES (?, ?, 'Rossi', "
	                 "'rossi', 'x', 'x', ?) RETURNING id",
	                 "itI", org, given, managed_by),
	    0);
	return id;
}

static inline void bk_setup(void)
{
	fx_setup();
	cr_assert_eq(store_insert(fx_conn, &MEMBER,
	                          "INSERT INTO organisations (kind, portal_id, parent_id, name) "
	                          "VALUES ('member', ?, ?, 'Member M') RETURNING id",
	                          "ii", PORTAL, ORG_A),
	             0);
	cr_assert_eq(store_insert(fx_conn, &PORTAL2,
	                          "INSERT INTO portals (name, base_url) VALUES ('P2', "
	                          "'https://p2.example') RETURNING id",
	                          ""),
	             0);
	cr_assert_eq(store_insert(fx_conn, &ORG_C,
	                          "INSERT INTO organisations (kind, portal_id, name) VALUES "
	                          "('customer', ?, 'Clinic C') RETURNING id",
	                          "i", PORTAL2),
	             0);
	cr_assert_eq(store_staff_add(fx_conn, ORG_A, "a@clinic.it", "Staff A", "h",
	                             STORE_ROLE_ADMIN, &STAFF_A),
	             0);
	ALICE = bk_add_patient(ORG_A, "Alice", 0);
	CHILD = bk_add_patient(ORG_A, "Child", ALICE);
	BOB = bk_add_patient(ORG_A, "Bob", 0);
	CAROL = bk_add_patient(ORG_C, "Carol", 0);
}

static inline void bk_teardown(void)
{
	fx_teardown();
}

static inline struct booking_actor bk_staff(int64_t org)
{
	return (struct booking_actor){.staff_org = org, .staff_id = org == ORG_A ? STAFF_A : 0};
}

static inline struct booking_actor bk_patient(int64_t portal, int64_t patient)
{
	return (struct booking_actor){.portal_id = portal, .patient_id = patient};
}

/* A service of org (price 0 unless mandatory); returns its id. */
static inline int64_t bk_service(int64_t org, const char *name, enum booking_kind kind,
                                 enum booking_payment pay, int64_t price)
{
	struct booking_actor st = bk_staff(org == MEMBER ? ORG_A : org);
	struct booking_service s = {.org_id = org,
	                            .name = (char *)name,
	                            .duration_min = 30,
	                            .kind = kind,
	                            .payment = pay,
	                            .price_cents = price,
	                            .online_booking = 1,
	                            .active = 1};
	cr_assert_eq(booking_service_create(fx_conn, &st, &s), 0);
	return s.id;
}

/* A slot inserted directly (start relative to BK_NOW), for tests that need no hours. */
static inline int64_t bk_slot(int64_t org, int64_t svc, int64_t start, int capacity)
{
	int64_t id = 0;
	cr_assert_eq(
	    store_insert(fx_conn, &id,
	                 "INSERT INTO slots (org_id, service_id, start_at, end_at, capacity) "
	                 "VALUES (?, ?, ?, ?, ?) RETURNING id",
	                 "iiiii", org, svc, start, start + 1800, (int64_t)capacity),
	    0);
	return id;
}

static inline int64_t bk_booked(int64_t slot)
{
	int64_t n = -1;
	cr_assert_eq(store_scalar(fx_conn, &n, "SELECT booked FROM slots WHERE id = ?", "i", slot),
	             0);
	return n;
}

#endif
