/*
 * Tests for booking/slots: generation in Europe/Rome across both DST changes
 * (last Sunday of March and of October), idempotent regeneration that keeps
 * booked slots, and the free-slot search: order, filters, pagination, scope.
 */
#include "fixture.h"

TestSuite(booking_slots, .init = bk_setup, .fini = bk_teardown);

static int64_t utc(int y, int mo, int d, int h)
{
	return tz_days_from_civil(y, mo, d) * 86400 + h * 3600;
}

/* The starts of a service's slots at a place, in order; returns how many. */
static int starts(int64_t svc, int64_t org, int64_t *out, int max)
{
	struct store_stmt *s = NULL;
	int n = 0;
	cr_assert_eq(store_query(fx_conn, &s,
	                         "SELECT start_at FROM slots WHERE service_id = ? AND org_id = ? "
	                         "ORDER BY start_at",
	                         "ii", svc, org),
	             0);
	while (store_step(s) == 1 && n < max)
		out[n++] = store_col_int(s, 0);
	store_done(s);
	return n;
}

/* Saturday and Monday 09:00-12:00, Sunday night 00:00-04:00, hourly. */
static int64_t dst_service(void)
{
	int64_t svc = bk_service(ORG_A, "Night clinic", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	struct booking_actor st = bk_staff(ORG_A);
	struct booking_hours h[] = {
	    {.weekday = 5, .start_min = 540, .end_min = 720, .slot_min = 60, .capacity = 1},
	    {.weekday = 6, .start_min = 0, .end_min = 240, .slot_min = 60, .capacity = 1},
	    {.weekday = 0, .start_min = 540, .end_min = 720, .slot_min = 60, .capacity = 1},
	};
	cr_assert_eq(booking_hours_set(fx_conn, &st, svc, ORG_A, h, 3), 0);
	return svc;
}

Test(booking_slots, generate_spring_dst_week)
{
	int64_t svc = dst_service();
	struct booking_actor st = bk_staff(ORG_A);
	struct booking_generate_result r;
	/* 2030-03-31 is the last Sunday of March: 02:00 CET becomes 03:00 CEST. */
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &st, svc, ORG_A, "2030-03-30", "2030-04-01", &r), 0);
	int64_t want[] = {
	    utc(2030, 3, 30, 8),  utc(2030, 3, 30, 9), utc(2030, 3, 30, 10), /* Sat 09-11 CET */
	    utc(2030, 3, 30, 23),                                            /* Sun 00 CET */
	    utc(2030, 3, 31, 0),                                             /* Sun 01 CET */
	    utc(2030, 3, 31, 1), /* Sun 03 CEST (02 does not exist) */
	    utc(2030, 4, 1, 7),   utc(2030, 4, 1, 8),  utc(2030, 4, 1, 9), /* Mon 09-11 CEST */
	};
	int64_t got[32];
	int n = starts(svc, ORG_A, got, 32);
	cr_assert_eq(r.created, 9);
	cr_assert_eq(n, 9);
	for (int i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "slot %d: %lld != %lld", i, (long long)got[i],
		             (long long)want[i]);
}

Test(booking_slots, generate_autumn_dst_week)
{
	int64_t svc = dst_service();
	struct booking_actor st = bk_staff(ORG_A);
	struct booking_generate_result r;
	/* 2030-10-27 is the last Sunday of October: 03:00 CEST becomes 02:00 CET. */
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &st, svc, ORG_A, "2030-10-26", "2030-10-28", &r), 0);
	int64_t want[] = {
	    utc(2030, 10, 26, 7),  utc(2030, 10, 26, 8), utc(2030, 10, 26, 9), /* Sat CEST */
	    utc(2030, 10, 26, 22),                                             /* Sun 00 CEST */
	    utc(2030, 10, 26, 23),                                             /* Sun 01 CEST */
	    utc(2030, 10, 27, 0), /* Sun 02, its first occurrence (CEST) only */
	    utc(2030, 10, 27, 2), /* Sun 03 CET */
	    utc(2030, 10, 28, 8),  utc(2030, 10, 28, 9), utc(2030, 10, 28, 10), /* Mon CET */
	};
	int64_t got[32];
	int n = starts(svc, ORG_A, got, 32);
	cr_assert_eq(r.created, 10);
	cr_assert_eq(n, 10);
	for (int i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "slot %d", i);
}

Test(booking_slots, generate_other_zone)
{
	cr_assert_eq(
	    store_exec(fx_conn, NULL,
	               "UPDATE organisations SET timezone = 'America/New_York' WHERE id = ?", "i",
	               MEMBER),
	    0);
	int64_t svc = bk_service(ORG_A, "Visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	struct booking_actor st = bk_staff(ORG_A);
	struct booking_hours h = {
	    .weekday = 0, .start_min = 540, .end_min = 600, .slot_min = 60, .capacity = 1};
	cr_assert_eq(booking_hours_set(fx_conn, &st, svc, MEMBER, &h, 1), 0);
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &st, svc, MEMBER, "2030-01-07", "2030-01-07", NULL), 0);
	int64_t got[4];
	cr_assert_eq(starts(svc, MEMBER, got, 4), 1);
	cr_assert_eq(got[0], utc(2030, 1, 7, 14), "09:00 EST = 14:00Z");
	/* An unknown zone is an error, not UTC. */
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE organisations SET timezone = 'Nowhere/Town' WHERE id = ?",
	                        "i", MEMBER),
	             0);
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &st, svc, MEMBER, "2030-01-14", "2030-01-14", NULL),
	    BOOKING_ZONE);
}

Test(booking_slots, regenerate_is_idempotent_and_keeps_bookings)
{
	int64_t svc = bk_service(ORG_A, "Visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	struct booking_actor st = bk_staff(ORG_A);
	struct booking_hours week[5];
	for (int d = 0; d < 5; d++)
		week[d] = (struct booking_hours){d, 540, 720, 30, 1}; /* 6 a day */
	cr_assert_eq(booking_hours_set(fx_conn, &st, svc, ORG_A, week, 5), 0);
	struct booking_generate_result r;
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &st, svc, ORG_A, "2030-01-14", "2030-01-20", &r), 0);
	cr_assert_eq(r.created, 30);
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &st, svc, ORG_A, "2030-01-14", "2030-01-20", &r), 0);
	cr_assert_eq(r.created + r.updated + r.removed + r.kept, 0, "a rerun changes nothing");
	int64_t n = 0;
	cr_assert_eq(store_scalar(fx_conn, &n, "SELECT COUNT(*) FROM slots", ""), 0);
	cr_assert_eq(n, 30);

	/* Book Monday 11:00 (Rome) = 10:00Z, then shorten the hours to 09:00-10:00, capacity 2. */
	int64_t slot = 0;
	cr_assert_eq(store_scalar(fx_conn, &slot, "SELECT id FROM slots WHERE start_at = ?", "i",
	                          utc(2030, 1, 14, 10)),
	             0);
	struct booking_request req = {.patient_id = BOB,
	                              .slot_id = slot,
	                              .kind = -1,
	                              .payment = -1,
	                              .amount_cents = -1,
	                              .now = BK_NOW};
	struct booking_appointment ap;
	cr_assert_eq(booking_take_slot(fx_conn, &st, &req, &ap), 0);
	for (int d = 0; d < 5; d++)
		week[d] = (struct booking_hours){d, 540, 600, 30, 2};
	cr_assert_eq(booking_hours_set(fx_conn, &st, svc, ORG_A, week, 5), 0);
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &st, svc, ORG_A, "2030-01-14", "2030-01-20", &r), 0);
	cr_assert_eq(r.created, 0);
	cr_assert_eq(r.updated, 10, "two slots a day get capacity 2");
	cr_assert_eq(r.removed, 19);
	cr_assert_eq(r.kept, 1, "the booked 11:00 slot stays");
	cr_assert_eq(bk_booked(slot), 1);
	cr_assert_eq(store_scalar(fx_conn, &n, "SELECT COUNT(*) FROM slots", ""), 0);
	cr_assert_eq(n, 11);

	/* Capacity never drops below what is booked. */
	int64_t first = 0;
	cr_assert_eq(store_scalar(fx_conn, &first, "SELECT id FROM slots WHERE start_at = ?", "i",
	                          utc(2030, 1, 14, 8)),
	             0);
	req.slot_id = first;
	cr_assert_eq(booking_take_slot(fx_conn, &st, &req, &ap), 0);
	req.patient_id = ALICE;
	cr_assert_eq(booking_take_slot(fx_conn, &st, &req, &ap), 0);
	for (int d = 0; d < 5; d++)
		week[d] = (struct booking_hours){d, 540, 600, 30, 1};
	cr_assert_eq(booking_hours_set(fx_conn, &st, svc, ORG_A, week, 5), 0);
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &st, svc, ORG_A, "2030-01-14", "2030-01-20", &r), 0);
	cr_assert_eq(
	    store_scalar(fx_conn, &n, "SELECT capacity FROM slots WHERE id = ?", "i", first), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(bk_booked(first), 2);
}

Test(booking_slots, generate_checks)
{
	int64_t svc = bk_service(ORG_A, "Visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	struct booking_actor st = bk_staff(ORG_A), b = bk_staff(ORG_B);
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &b, svc, ORG_A, "2030-01-14", "2030-01-20", NULL),
	    BOOKING_NOTFOUND);
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &st, svc, ORG_A, "2030-01-20", "2030-01-14", NULL),
	    BOOKING_INVALID);
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &st, svc, ORG_A, "2030-01-14", "2032-01-14", NULL),
	    BOOKING_INVALID);
	cr_assert_eq(
	    booking_slots_generate(fx_conn, &st, svc, ORG_A, "yesterday", "2030-01-14", NULL),
	    BOOKING_INVALID);
}

struct world {
	int64_t s1, s2, sc, a1, a2, m1, full, past, s2slot, cslot;
};

static struct world search_world(void)
{
	struct world w;
	w.s1 = bk_service(ORG_A, "S1", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	w.s2 = bk_service(ORG_A, "S2", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	w.sc = bk_service(ORG_C, "SC", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	w.a1 = bk_slot(ORG_A, w.s1, BK_NOW + 3 * 3600, 1);
	w.a2 = bk_slot(ORG_A, w.s1, BK_NOW + 1 * 3600, 1);
	w.m1 = bk_slot(MEMBER, w.s1, BK_NOW + 2 * 3600, 1);
	w.full = bk_slot(ORG_A, w.s1, BK_NOW + 1800, 1);
	w.past = bk_slot(ORG_A, w.s1, BK_NOW - 3600, 1);
	w.s2slot = bk_slot(ORG_A, w.s2, BK_NOW + 5 * 3600, 2);
	w.cslot = bk_slot(ORG_C, w.sc, BK_NOW + 3600, 1);
	cr_assert_eq(
	    store_exec(fx_conn, NULL, "UPDATE slots SET booked = 1 WHERE id = ?", "i", w.full), 0);
	return w;
}

static void expect(const struct booking_slot *rows, int n, const int64_t *ids, int k)
{
	cr_assert_eq(n, k, "rows %d, want %d", n, k);
	for (int i = 0; i < k; i++)
		cr_assert_eq(rows[i].id, ids[i], "row %d", i);
}

Test(booking_slots, search_order_filters_pages)
{
	struct world w = search_world();
	struct booking_actor p = bk_patient(PORTAL, ALICE);
	struct booking_slot *rows;
	int n, more;
	struct booking_search q = {.service_id = w.s1, .now = BK_NOW, .limit = 10};
	cr_assert_eq(booking_slots_search(fx_conn, &p, &q, &rows, &n, &more, fx_arena), 0);
	expect(rows, n, (int64_t[]){w.a2, w.m1, w.a1}, 3);
	cr_assert_eq(more, 0);
	cr_assert_str_eq(rows[1].org_name, "Member M");
	cr_assert_str_eq(rows[1].timezone, "Europe/Rome");

	q.org_id = MEMBER;
	cr_assert_eq(booking_slots_search(fx_conn, &p, &q, &rows, &n, &more, fx_arena), 0);
	expect(rows, n, (int64_t[]){w.m1}, 1);

	q.org_id = 0;
	q.from = BK_NOW + 90 * 60;
	q.to = BK_NOW + 150 * 60;
	cr_assert_eq(booking_slots_search(fx_conn, &p, &q, &rows, &n, &more, fx_arena), 0);
	expect(rows, n, (int64_t[]){w.m1}, 1);

	/* Every service, two per page. */
	q = (struct booking_search){.now = BK_NOW, .limit = 2};
	cr_assert_eq(booking_slots_search(fx_conn, &p, &q, &rows, &n, &more, fx_arena), 0);
	expect(rows, n, (int64_t[]){w.a2, w.m1}, 2);
	cr_assert_eq(more, 1);
	q.after_start = rows[1].start_at;
	q.after_id = rows[1].id;
	cr_assert_eq(booking_slots_search(fx_conn, &p, &q, &rows, &n, &more, fx_arena), 0);
	expect(rows, n, (int64_t[]){w.a1, w.s2slot}, 2);
	cr_assert_eq(more, 0);

	/* "In the future" follows the clock passed in. */
	q = (struct booking_search){.service_id = w.s1, .now = BK_NOW + 2 * 3600, .limit = 10};
	cr_assert_eq(booking_slots_search(fx_conn, &p, &q, &rows, &n, &more, fx_arena), 0);
	expect(rows, n, (int64_t[]){w.a1}, 1);

	q = (struct booking_search){.now = BK_NOW, .limit = 0};
	cr_assert_eq(booking_slots_search(fx_conn, &p, &q, &rows, &n, &more, fx_arena),
	             BOOKING_INVALID);
}

Test(booking_slots, search_scope)
{
	struct world w = search_world();
	struct booking_slot *rows;
	int n, more;
	struct booking_search q = {.now = BK_NOW, .limit = 50};
	/* The other portal sees only its own. */
	struct booking_actor p2 = bk_patient(PORTAL2, CAROL);
	cr_assert_eq(booking_slots_search(fx_conn, &p2, &q, &rows, &n, &more, fx_arena), 0);
	expect(rows, n, (int64_t[]){w.cslot}, 1);
	/* Staff of B: nothing of A; staff of the member: only the member's. */
	struct booking_actor b = bk_staff(ORG_B), m = bk_staff(MEMBER), a = bk_staff(ORG_A);
	cr_assert_eq(booking_slots_search(fx_conn, &b, &q, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(booking_slots_search(fx_conn, &m, &q, &rows, &n, &more, fx_arena), 0);
	expect(rows, n, (int64_t[]){w.m1}, 1);
	cr_assert_eq(booking_slots_search(fx_conn, &a, &q, &rows, &n, &more, fx_arena), 0);
	expect(rows, n, (int64_t[]){w.a2, w.m1, w.a1, w.s2slot}, 4);

	/* Not bookable online: hidden from patients, still listed for staff; inactive: hidden. */
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "UPDATE services SET online_booking = 0 WHERE id = ?", "i", w.s2),
	             0);
	struct booking_actor p = bk_patient(PORTAL, ALICE);
	cr_assert_eq(booking_slots_search(fx_conn, &p, &q, &rows, &n, &more, fx_arena), 0);
	expect(rows, n, (int64_t[]){w.a2, w.m1, w.a1}, 3);
	cr_assert_eq(booking_slots_search(fx_conn, &a, &q, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 4);
	cr_assert_eq(
	    store_exec(fx_conn, NULL, "UPDATE services SET active = 0 WHERE id = ?", "i", w.s2), 0);
	cr_assert_eq(booking_slots_search(fx_conn, &a, &q, &rows, &n, &more, fx_arena), 0);
	cr_assert_eq(n, 3);
}
