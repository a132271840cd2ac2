/*
 * Tests for booking/appointment: online booking for oneself and a managed
 * family member only, a taken slot and the next ones, offline bookings,
 * cancel and reschedule with the organisation's cut-off, and confinement.
 */
#include "fixture.h"

TestSuite(booking_appointment, .init = bk_setup, .fini = bk_teardown);

#define DAY 86400

static struct booking_request online(int64_t patient, int64_t slot)
{
	return (struct booking_request){.patient_id = patient,
	                                .slot_id = slot,
	                                .kind = -1,
	                                .payment = -1,
	                                .amount_cents = -1,
	                                .now = BK_NOW};
}

Test(booking_appointment, online_for_self_and_managed_family_only)
{
	int64_t svc = bk_service(ORG_A, "Visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t s1 = bk_slot(ORG_A, svc, BK_NOW + 2 * DAY, 1);
	int64_t s2 = bk_slot(MEMBER, svc, BK_NOW + 3 * DAY, 1);
	int64_t s3 = bk_slot(ORG_A, svc, BK_NOW + 4 * DAY, 1);
	struct booking_actor alice = bk_patient(PORTAL, ALICE), bob = bk_patient(PORTAL, BOB);
	struct booking_appointment ap;
	struct booking_request r = online(ALICE, s1);
	cr_assert_eq(booking_take_slot(fx_conn, &alice, &r, &ap), 0);
	cr_assert_gt(ap.id, 0);
	cr_assert_eq(ap.via, BOOKING_VIA_ONLINE);
	cr_assert_eq(ap.start_at, BK_NOW + 2 * DAY);
	cr_assert_eq(bk_booked(s1), 1);

	/* Alice manages Child: allowed, at the member too. */
	r = online(CHILD, s2);
	cr_assert_eq(booking_take_slot(fx_conn, &alice, &r, &ap), 0);
	cr_assert_eq(ap.patient_id, CHILD);
	cr_assert_eq(ap.org_id, MEMBER);
	/* Bob does not manage Child, nor Alice. */
	r = online(CHILD, s3);
	cr_assert_eq(booking_take_slot(fx_conn, &bob, &r, &ap), BOOKING_FORBIDDEN);
	r = online(ALICE, s3);
	cr_assert_eq(booking_take_slot(fx_conn, &bob, &r, &ap), BOOKING_FORBIDDEN);
	cr_assert_eq(bk_booked(s3), 0, "a refused booking takes no seat");
	/* Carol's portal reaches neither the slot nor the patient. */
	struct booking_actor carol = bk_patient(PORTAL2, CAROL);
	r = online(CAROL, s3);
	cr_assert_eq(booking_take_slot(fx_conn, &carol, &r, &ap), BOOKING_NOTFOUND);
	r = online(ALICE, s3);
	cr_assert_eq(booking_take_slot(fx_conn, &carol, &r, &ap), BOOKING_NOTFOUND);

	/* Alice sees her child's appointment; Bob does not. */
	int64_t child_appt = 0;
	cr_assert_eq(store_scalar(fx_conn, &child_appt,
	                          "SELECT id FROM appointments WHERE patient_id = ?", "i", CHILD),
	             0);
	cr_assert_eq(booking_appointment_get(fx_conn, &alice, child_appt, &ap, fx_arena), 0);
	cr_assert_str_eq(ap.org_name, "Member M");
	cr_assert_str_eq(ap.patient_name, "Child Rossi");
	cr_assert_eq(booking_appointment_get(fx_conn, &bob, child_appt, &ap, fx_arena),
	             BOOKING_NOTFOUND);
}

Test(booking_appointment, taken_slot_and_next_ones)
{
	int64_t svc = bk_service(ORG_A, "Visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t s1 = bk_slot(ORG_A, svc, BK_NOW + DAY, 1);
	int64_t s2 = bk_slot(ORG_A, svc, BK_NOW + DAY + 1800, 1);
	int64_t s3 = bk_slot(ORG_A, svc, BK_NOW + DAY + 3600, 1);
	bk_slot(MEMBER, svc, BK_NOW + DAY + 600, 1); /* another place: not "next" here */
	struct booking_actor alice = bk_patient(PORTAL, ALICE), bob = bk_patient(PORTAL, BOB);
	struct booking_appointment ap;
	struct booking_request r = online(ALICE, s1);
	cr_assert_eq(booking_take_slot(fx_conn, &alice, &r, &ap), 0);
	r = online(BOB, s1);
	cr_assert_eq(booking_take_slot(fx_conn, &bob, &r, &ap), BOOKING_TAKEN);
	cr_assert_eq(ap.id, 0);
	cr_assert_str_eq(booking_strerror(BOOKING_TAKEN),
	                 "Sorry, this time has just been taken. Here are the next free times.");
	struct booking_slot *rows;
	int n;
	cr_assert_eq(booking_slots_next(fx_conn, &bob, s1, BK_NOW, 5, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(rows[0].id, s2);
	cr_assert_eq(rows[1].id, s3);
	cr_assert_eq(booking_slots_next(fx_conn, &bob, s1, BK_NOW, 1, &rows, &n, fx_arena), 0);
	cr_assert_eq(n, 1);
	int64_t count = 0;
	cr_assert_eq(store_scalar(fx_conn, &count, "SELECT COUNT(*) FROM appointments", ""), 0);
	cr_assert_eq(count, 1);
}

Test(booking_appointment, past_and_not_bookable)
{
	int64_t svc = bk_service(ORG_A, "Visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t past = bk_slot(ORG_A, svc, BK_NOW - 60, 1);
	struct booking_actor alice = bk_patient(PORTAL, ALICE), st = bk_staff(ORG_A);
	struct booking_appointment ap;
	struct booking_request r = online(ALICE, past);
	cr_assert_eq(booking_take_slot(fx_conn, &alice, &r, &ap), BOOKING_PAST);
	cr_assert_eq(booking_take_slot(fx_conn, &st, &r, &ap), BOOKING_PAST);
	cr_assert_eq(bk_booked(past), 0);
	int64_t hidden = 0;
	cr_assert_eq(store_insert(fx_conn, &hidden,
	                          "INSERT INTO services (org_id, name, online_booking) VALUES (?, "
	                          "'Phone only', 0) RETURNING id",
	                          "i", ORG_A),
	             0);
	int64_t hs = bk_slot(ORG_A, hidden, BK_NOW + DAY, 1);
	r = online(ALICE, hs);
	cr_assert_eq(booking_take_slot(fx_conn, &alice, &r, &ap), BOOKING_NOTFOUND);
	/* Staff may still book it. */
	cr_assert_eq(booking_take_slot(fx_conn, &st, &r, &ap), 0);
	cr_assert_eq(ap.via, BOOKING_VIA_OFFLINE);
}

Test(booking_appointment, offline_booking_and_payment_hook)
{
	int64_t video =
	    bk_service(ORG_A, "Video consult", BOOKING_VIDEO, BOOKING_PAY_MANDATORY, 5000);
	struct booking_actor st = bk_staff(ORG_A);
	struct booking_appointment ap;
	/* At a time without a slot, at the member. */
	struct booking_request r = {.patient_id = BOB,
	                            .service_id = video,
	                            .org_id = MEMBER,
	                            .start_at = BK_NOW + 2 * DAY + 600,
	                            .kind = -1,
	                            .payment = -1,
	                            .amount_cents = -1,
	                            .now = BK_NOW};
	cr_assert_eq(booking_take_slot(fx_conn, &st, &r, &ap), 0);
	cr_assert_eq(ap.slot_id, 0);
	cr_assert_eq(ap.end_at - ap.start_at, 30 * 60);
	cr_assert_eq(ap.kind, BOOKING_VIDEO);
	cr_assert_eq(ap.payment, BOOKING_PAY_MANDATORY);
	cr_assert_eq(ap.amount_cents, 5000);
	cr_assert_eq(ap.via, BOOKING_VIA_OFFLINE);
	cr_assert_eq(ap.created_by_staff, STAFF_A);
	cr_assert_eq(booking_needs_payment_request(&ap), 1);
	struct booking_appointment back;
	cr_assert_eq(booking_appointment_get(fx_conn, &st, ap.id, &back, fx_arena), 0);
	cr_assert_eq(booking_needs_payment_request(&back), 1);
	cr_assert_eq(back.created_by_staff, STAFF_A);

	/* Staff choose: in person, optional payment: no request. */
	r.kind = BOOKING_IN_PERSON;
	r.payment = BOOKING_PAY_OPTIONAL;
	r.amount_cents = 2000;
	cr_assert_eq(booking_take_slot(fx_conn, &st, &r, &ap), 0);
	cr_assert_eq(ap.kind, BOOKING_IN_PERSON);
	cr_assert_eq(ap.amount_cents, 2000);
	cr_assert_eq(booking_needs_payment_request(&ap), 0);
	/* Mandatory with nothing to pay is refused. */
	r.payment = BOOKING_PAY_MANDATORY;
	r.amount_cents = 0;
	cr_assert_eq(booking_take_slot(fx_conn, &st, &r, &ap), BOOKING_INVALID);

	/* The same video service booked online: no request (the portal goes to the payment page).
	 */
	int64_t slot = bk_slot(ORG_A, video, BK_NOW + DAY, 1);
	struct booking_actor alice = bk_patient(PORTAL, ALICE);
	struct booking_request o = online(ALICE, slot);
	cr_assert_eq(booking_take_slot(fx_conn, &alice, &o, &ap), 0);
	cr_assert_eq(ap.kind, BOOKING_VIDEO);
	cr_assert_eq(ap.payment, BOOKING_PAY_MANDATORY);
	cr_assert_eq(booking_needs_payment_request(&ap), 0);

	/* Another organisation's staff: not their patient, not their place. */
	struct booking_actor b = bk_staff(ORG_B);
	r = (struct booking_request){.patient_id = BOB,
	                             .service_id = video,
	                             .org_id = ORG_A,
	                             .start_at = BK_NOW + DAY,
	                             .kind = -1,
	                             .payment = -1,
	                             .amount_cents = -1,
	                             .now = BK_NOW};
	cr_assert_eq(booking_take_slot(fx_conn, &b, &r, &ap), BOOKING_NOTFOUND);
	int64_t bpat = bk_add_patient(ORG_B, "Beppe", 0);
	r.patient_id = bpat;
	cr_assert_eq(booking_take_slot(fx_conn, &b, &r, &ap), BOOKING_NOTFOUND);
}

Test(booking_appointment, cancel_with_cutoff)
{
	int64_t svc = bk_service(ORG_A, "Visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t soon = bk_slot(ORG_A, svc, BK_NOW + 2 * DAY, 1);
	struct booking_actor alice = bk_patient(PORTAL, ALICE), st = bk_staff(ORG_A);
	struct booking_appointment ap;
	struct booking_request r = online(ALICE, soon);
	cr_assert_eq(booking_take_slot(fx_conn, &alice, &r, &ap), 0);
	/* Default cut-off 24 h: 23 h before is too late for the patient... */
	int64_t late = ap.start_at - 23 * 3600;
	cr_assert_eq(booking_cancel(fx_conn, &alice, ap.id, late), BOOKING_CUTOFF);
	cr_assert_eq(bk_booked(soon), 1);
	/* ...exactly 24 h before is still allowed. */
	cr_assert_eq(booking_cancel(fx_conn, &alice, ap.id, ap.start_at - 24 * 3600), 0);
	cr_assert_eq(bk_booked(soon), 0, "the seat is free again");
	cr_assert_eq(booking_cancel(fx_conn, &alice, ap.id, BK_NOW), BOOKING_STATE);
	cr_assert_eq(bk_booked(soon), 0, "never freed twice");

	/* The organisation sets 2 h: 3 h before is fine. */
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO org_settings (org_id, key, value) VALUES (?, "
	                        "'cancel_cutoff_hours', '2')",
	                        "i", ORG_A),
	             0);
	int hours = 0;
	cr_assert_eq(booking_cutoff_hours(fx_conn, MEMBER, &hours), 0);
	cr_assert_eq(hours, 2, "a member without its own setting follows its customer");
	cr_assert_eq(booking_cutoff_hours(fx_conn, ORG_B, &hours), 0);
	cr_assert_eq(hours, 24);
	cr_assert_eq(booking_take_slot(fx_conn, &alice, &r, &ap), 0);
	cr_assert_eq(booking_cancel(fx_conn, &alice, ap.id, ap.start_at - 3 * 3600), 0);

	/* Staff may cancel inside the cut-off, but not after the start. */
	cr_assert_eq(booking_take_slot(fx_conn, &alice, &r, &ap), 0);
	cr_assert_eq(booking_cancel(fx_conn, &st, ap.id, ap.start_at + 1), BOOKING_PAST);
	struct booking_actor b = bk_staff(ORG_B);
	cr_assert_eq(booking_cancel(fx_conn, &b, ap.id, late), BOOKING_NOTFOUND);
	struct booking_actor bob = bk_patient(PORTAL, BOB);
	cr_assert_eq(booking_cancel(fx_conn, &bob, ap.id, BK_NOW), BOOKING_NOTFOUND);
	cr_assert_eq(booking_cancel(fx_conn, &st, ap.id, ap.start_at - 600), 0);
	cr_assert_eq(bk_booked(soon), 0);
}

Test(booking_appointment, reschedule_moves_the_seat)
{
	int64_t svc = bk_service(ORG_A, "Visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t other = bk_service(ORG_A, "Other", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	int64_t s1 = bk_slot(ORG_A, svc, BK_NOW + 2 * DAY, 1);
	int64_t s2 = bk_slot(MEMBER, svc, BK_NOW + 3 * DAY, 1);
	int64_t s3 = bk_slot(ORG_A, svc, BK_NOW + 4 * DAY, 1);
	int64_t so = bk_slot(ORG_A, other, BK_NOW + 4 * DAY, 1);
	struct booking_actor alice = bk_patient(PORTAL, ALICE), bob = bk_patient(PORTAL, BOB);
	struct booking_appointment ap, moved, b3;
	struct booking_request r = online(ALICE, s1);
	cr_assert_eq(booking_take_slot(fx_conn, &alice, &r, &ap), 0);
	cr_assert_eq(booking_reschedule(fx_conn, &alice, ap.id, s2, BK_NOW, &moved), 0);
	cr_assert_eq(moved.slot_id, s2);
	cr_assert_eq(moved.org_id, MEMBER);
	cr_assert_eq(moved.start_at, BK_NOW + 3 * DAY);
	cr_assert_eq(bk_booked(s1), 0);
	cr_assert_eq(bk_booked(s2), 1);
	struct booking_appointment back;
	cr_assert_eq(booking_appointment_get(fx_conn, &alice, ap.id, &back, fx_arena), 0);
	cr_assert_eq(back.slot_id, s2);
	cr_assert_eq(back.start_at, BK_NOW + 3 * DAY);

	/* A full target: nothing moves. */
	r = online(BOB, s3);
	cr_assert_eq(booking_take_slot(fx_conn, &bob, &r, &b3), 0);
	cr_assert_eq(booking_reschedule(fx_conn, &alice, ap.id, s3, BK_NOW, NULL), BOOKING_TAKEN);
	cr_assert_eq(bk_booked(s2), 1);
	cr_assert_eq(bk_booked(s3), 1);
	/* Another service, or the same slot: refused. */
	cr_assert_eq(booking_reschedule(fx_conn, &alice, ap.id, so, BK_NOW, NULL), BOOKING_INVALID);
	cr_assert_eq(booking_reschedule(fx_conn, &alice, ap.id, s2, BK_NOW, NULL), BOOKING_INVALID);
	/* Inside the cut-off of the current appointment: refused for the patient. */
	cr_assert_eq(booking_cancel(fx_conn, &bob, b3.id, BK_NOW), 0);
	cr_assert_eq(booking_reschedule(fx_conn, &alice, ap.id, s3, BK_NOW + 3 * DAY - 3600, NULL),
	             BOOKING_CUTOFF);
	/* Someone else's appointment. */
	cr_assert_eq(booking_reschedule(fx_conn, &bob, ap.id, s3, BK_NOW, NULL), BOOKING_NOTFOUND);
	struct booking_actor b = bk_staff(ORG_B);
	cr_assert_eq(booking_reschedule(fx_conn, &b, ap.id, s3, BK_NOW, NULL), BOOKING_NOTFOUND);
	/* Staff may, inside the cut-off. */
	struct booking_actor st = bk_staff(ORG_A);
	cr_assert_eq(booking_reschedule(fx_conn, &st, ap.id, s3, BK_NOW + 3 * DAY - 3600, NULL), 0);
	cr_assert_eq(bk_booked(s2), 0);
	cr_assert_eq(bk_booked(s3), 1);
}
