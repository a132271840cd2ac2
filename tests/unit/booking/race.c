/*
 * Race tests for booking_take_slot: 16 threads, each on its own connection
 * and each for its own patient, book one slot at the same moment. Capacity 1
 * gives exactly one appointment and 15 BOOKING_TAKEN; capacity 3 exactly
 * three. On PostgreSQL the racers really run at once (READ COMMITTED), so
 * only the conditional UPDATE keeps these green.
 */
#include "fixture.h"

#include <pthread.h>

TestSuite(booking_race, .init = bk_setup, .fini = bk_teardown);

#define RACERS 16

struct race {
	struct store *st;
	pthread_barrier_t start;
	int64_t slot;
	int64_t patients[RACERS];
	int rc[RACERS];
};

struct racer_arg {
	struct race *r;
	int n;
};

static void *racer(void *arg)
{
	struct racer_arg *ra = arg;
	struct race *r = ra->r;
	struct store_conn *c = store_acquire(r->st);
	struct booking_actor who = bk_patient(PORTAL, r->patients[ra->n]);
	struct booking_request req = {.patient_id = r->patients[ra->n],
	                              .slot_id = r->slot,
	                              .kind = -1,
	                              .payment = -1,
	                              .amount_cents = -1,
	                              .now = BK_NOW};
	struct booking_appointment ap;
	pthread_barrier_wait(&r->start);
	int rc;
	/* SQLite may report busy past its timeout under this much contention: retry that only. */
	for (int tries = 0;
	     (rc = booking_take_slot(c, &who, &req, &ap)) == BOOKING_BUSY && tries < 5; tries++)
		;
	r->rc[ra->n] = rc;
	store_release(c);
	return NULL;
}

static void run_race(int capacity, int want)
{
	struct race r = {0};
	int64_t svc = bk_service(ORG_A, "Visit", BOOKING_IN_PERSON, BOOKING_PAY_NONE, 0);
	r.slot = bk_slot(ORG_A, svc, BK_NOW + 86400, capacity);
	for (int i = 0; i < RACERS; i++)
		r.patients[i] = bk_add_patient(ORG_A, "Racer", 0);
	cr_assert_eq(store_open(&r.st, fx_url, RACERS), 0);
	/* Every connection opened before the start, so racers do not wait on each other's open. */
	struct store_conn *warm[RACERS];
	for (int i = 0; i < RACERS; i++)
		warm[i] = store_acquire(r.st);
	for (int i = 0; i < RACERS; i++)
		store_release(warm[i]);
	pthread_barrier_init(&r.start, NULL, RACERS);
	pthread_t t[RACERS];
	struct racer_arg args[RACERS];
	for (int i = 0; i < RACERS; i++) {
		args[i] = (struct racer_arg){&r, i};
		cr_assert_eq(pthread_create(&t[i], NULL, racer, &args[i]), 0);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&r.start);
	store_free(r.st);
	int won = 0, taken = 0;
	for (int i = 0; i < RACERS; i++) {
		if (r.rc[i] == 0)
			won++;
		else if (r.rc[i] == BOOKING_TAKEN)
			taken++;
		else
			cr_assert_fail("racer %d: %s", i, booking_strerror(r.rc[i]));
	}
	cr_assert_eq(won, want);
	cr_assert_eq(taken, RACERS - want);
	int64_t n = 0;
	cr_assert_eq(store_scalar(fx_conn, &n,
	                          "SELECT COUNT(*) FROM appointments WHERE slot_id = ?", "i",
	                          r.slot),
	             0);
	cr_assert_eq(n, want);
	cr_assert_eq(bk_booked(r.slot), want);
}

Test(booking_race, capacity_one_one_appointment)
{
	run_race(1, 1);
}

Test(booking_race, capacity_three_three_appointments)
{
	run_race(3, 3);
}
