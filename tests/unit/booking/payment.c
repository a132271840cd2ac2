/*
 * Tests for booking/payment: mark_paid is idempotent (a replayed webhook
 * changes nothing), refuses another appointment's reference, completes a
 * pending payment; the staff list of unpaid video consultations.
 */
#include "fixture.h"

TestSuite(booking_payment, .init = bk_setup, .fini = bk_teardown);

static int64_t video_appt(struct booking_actor *st, int64_t patient, int64_t org, int64_t start)
{
	static int64_t svc;
	svc = bk_service(org == MEMBER ? ORG_A : org, "Video", BOOKING_VIDEO, BOOKING_PAY_MANDATORY,
	                 4500);
	struct booking_request r = {.patient_id = patient,
	                            .service_id = svc,
	                            .org_id = org,
	                            .start_at = start,
	                            .kind = -1,
	                            .payment = -1,
	                            .amount_cents = -1,
	                            .now = BK_NOW};
	struct booking_appointment ap;
	cr_assert_eq(booking_take_slot(fx_conn, st, &r, &ap), 0);
	return ap.id;
}

static int64_t count(const char *sql, int64_t id)
{
	int64_t n = -1;
	cr_assert_eq(store_scalar(fx_conn, &n, sql, "i", id), 0);
	return n;
}

Test(booking_payment, mark_paid_is_idempotent)
{
	struct booking_actor st = bk_staff(ORG_A);
	int64_t a = video_appt(&st, BOB, ORG_A, BK_NOW + 86400);
	int changed = -1;
	cr_assert_eq(booking_mark_paid(fx_conn, a, "stripe", "cs_test_1", BK_NOW, &changed), 0);
	cr_assert_eq(changed, 1);
	struct booking_appointment ap;
	cr_assert_eq(booking_appointment_get(fx_conn, &st, a, &ap, fx_arena), 0);
	cr_assert_eq(ap.paid_at, BK_NOW);
	cr_assert_eq(booking_needs_payment_request(&ap), 0, "paid: no request");
	/* The replay, later: nothing changes. */
	cr_assert_eq(booking_mark_paid(fx_conn, a, "stripe", "cs_test_1", BK_NOW + 60, &changed),
	             0);
	cr_assert_eq(changed, 0);
	cr_assert_eq(booking_appointment_get(fx_conn, &st, a, &ap, fx_arena), 0);
	cr_assert_eq(ap.paid_at, BK_NOW);
	cr_assert_eq(count("SELECT COUNT(*) FROM payments WHERE appointment_id = ?", a), 1);
	cr_assert_eq(count("SELECT amount_cents FROM payments WHERE appointment_id = ?", a), 4500);

	/* A reference that belongs to another appointment is refused. */
	int64_t b = video_appt(&st, ALICE, ORG_A, BK_NOW + 2 * 86400);
	cr_assert_eq(booking_mark_paid(fx_conn, b, "stripe", "cs_test_1", BK_NOW, &changed),
	             BOOKING_INVALID);
	cr_assert_eq(count("SELECT COUNT(*) FROM appointments WHERE id = ? AND paid_at IS NULL", b),
	             1);
	cr_assert_eq(booking_mark_paid(fx_conn, 999999, "stripe", "cs_x", BK_NOW, &changed),
	             BOOKING_NOTFOUND);
	cr_assert_eq(booking_mark_paid(fx_conn, b, "stripe", "", BK_NOW, &changed),
	             BOOKING_INVALID);
}

Test(booking_payment, pending_payment_completes)
{
	struct booking_actor st = bk_staff(ORG_A);
	int64_t a = video_appt(&st, BOB, ORG_A, BK_NOW + 86400);
	/* What a checkout leaves behind before the webhook. */
	cr_assert_eq(
	    store_exec(fx_conn, NULL,
	               "INSERT INTO payments (appointment_id, provider, provider_ref, "
	               "state, amount_cents) VALUES (?, 'sandbox', 'sb_1', 'pending', 4500)",
	               "i", a),
	    0);
	int changed = 0;
	cr_assert_eq(booking_mark_paid(fx_conn, a, "sandbox", "sb_1", BK_NOW, &changed), 0);
	cr_assert_eq(changed, 1);
	cr_assert_eq(count("SELECT COUNT(*) FROM payments WHERE appointment_id = ? AND state = "
	                   "'succeeded'",
	                   a),
	             1);
}

Test(booking_payment, unpaid_video_list)
{
	struct booking_actor st = bk_staff(ORG_A);
	int64_t soon = video_appt(&st, BOB, ORG_A, BK_NOW + 10 * 3600);
	int64_t member = video_appt(&st, ALICE, MEMBER, BK_NOW + 20 * 3600);
	int64_t later = video_appt(&st, BOB, ORG_A, BK_NOW + 72 * 3600);
	int64_t paid = video_appt(&st, BOB, ORG_A, BK_NOW + 5 * 3600);
	cr_assert_eq(booking_mark_paid(fx_conn, paid, "stripe", "cs_p", BK_NOW, NULL), 0);
	struct booking_actor stb = bk_staff(ORG_B);
	int64_t pb = bk_add_patient(ORG_B, "Beppe", 0);
	video_appt(&stb, pb, ORG_B, BK_NOW + 3600);
	/* In person with mandatory payment: not a video consultation. */
	int64_t ip = bk_service(ORG_A, "In person", BOOKING_IN_PERSON, BOOKING_PAY_MANDATORY, 100);
	struct booking_request r = {.patient_id = BOB,
	                            .service_id = ip,
	                            .org_id = ORG_A,
	                            .start_at = BK_NOW + 3600,
	                            .kind = -1,
	                            .payment = -1,
	                            .amount_cents = -1,
	                            .now = BK_NOW};
	struct booking_appointment ap;
	cr_assert_eq(booking_take_slot(fx_conn, &st, &r, &ap), 0);

	struct booking_appointment *rows;
	int n;
	cr_assert_eq(booking_unpaid_video(fx_conn, &st, 48, BK_NOW, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(rows[0].id, soon);
	cr_assert_eq(rows[1].id, member);
	cr_assert_str_eq(rows[1].org_name, "Member M");
	cr_assert_eq(booking_unpaid_video(fx_conn, &st, 100, BK_NOW, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(rows[2].id, later);
	/* Cancelled ones are not flagged. */
	cr_assert_eq(booking_cancel(fx_conn, &st, soon, BK_NOW), 0);
	cr_assert_eq(booking_unpaid_video(fx_conn, &st, 48, BK_NOW, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 1);
	/* The member's staff see only theirs; B only B's. */
	struct booking_actor stm = bk_staff(MEMBER);
	cr_assert_eq(booking_unpaid_video(fx_conn, &stm, 100, BK_NOW, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(rows[0].id, member);
	cr_assert_eq(booking_unpaid_video(fx_conn, &stb, 100, BK_NOW, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 1);
}
