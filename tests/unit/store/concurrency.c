/*
 * Concurrency tests for the store, on the fixture's backend: many threads,
 * each on its own connection, race for one thing that only one (or `capacity`)
 * may get. On SQLite writers queue on BEGIN IMMEDIATE; on PostgreSQL they
 * really run at once under READ COMMITTED, so what keeps these tests green
 * there is the SQL itself: unique constraints and conditional updates.
 * Each thread holds its transaction open a little after writing, so the
 * others pile up on its row or index entry instead of running one by one.
 */
#include "fixture.h"

#include "lib/util.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

TestSuite(store_concurrency, .init = fx_setup, .fini = fx_teardown);

#define RACERS  12
#define HOLD_MS 20

struct race {
	struct store *st;
	pthread_barrier_t start;
	const char *sql;
	const char *types; /* one or two int parameters, see racer() */
	int64_t a, b;
	int rc[RACERS];
	int64_t changes[RACERS];
};

struct racer_arg {
	struct race *r;
	int n;
};

static void hold(void)
{
	struct timespec ts = {0, HOLD_MS * 1000000L};
	nanosleep(&ts, NULL);
}

static void *racer(void *arg)
{
	struct racer_arg *ra = arg;
	struct race *r = ra->r;
	struct store_conn *c = store_acquire(r->st);
	int64_t changes = -1;
	/* Everyone holds a connection before anyone begins. */
	pthread_barrier_wait(&r->start);
	int rc = store_begin(c);
	if (rc == 0)
		rc = strlen(r->types) == 2 ? store_exec(c, &changes, r->sql, r->types, r->a, r->b)
		                           : store_exec(c, &changes, r->sql, r->types, r->a);
	if (rc == 0) {
		hold();
		rc = store_commit(c);
	} else {
		store_rollback(c);
	}
	store_release(c);
	r->rc[ra->n] = rc;
	r->changes[ra->n] = changes;
	return NULL;
}

/* Runs RACERS threads on their own store (one connection each) and waits for them. */
static void run_race(struct race *r)
{
	cr_assert_eq(store_open(&r->st, fx_url, RACERS), 0);
	pthread_barrier_init(&r->start, NULL, RACERS);
	pthread_t t[RACERS];
	struct racer_arg args[RACERS];
	for (int i = 0; i < RACERS; i++) {
		args[i] = (struct racer_arg){r, i};
		cr_assert_eq(pthread_create(&t[i], NULL, racer, &args[i]), 0);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&r->start);
	store_free(r->st);
	r->st = NULL;
}

Test(store_concurrency, unique_insert_one_wins)
{
	struct race r = {
	    .sql = "INSERT INTO staff_users (org_id, email, name, pw_hash, created_at) "
	           "VALUES (?, 'same@clinic.it', 'Racer', 'h', ?)",
	    .types = "ii",
	    .a = ORG_A,
	    .b = now_utc(),
	};
	run_race(&r);
	int won = 0, conflict = 0;
	for (int i = 0; i < RACERS; i++) {
		if (r.rc[i] == 0)
			won++;
		else if (r.rc[i] == STORE_CONFLICT)
			conflict++;
		else
			cr_assert_fail("racer %d: %s", i, store_strerror(r.rc[i]));
	}
	cr_assert_eq(won, 1);
	cr_assert_eq(conflict, RACERS - 1);
	int64_t n = 0;
	cr_assert_eq(store_scalar(fx_conn, &n,
	                          "SELECT COUNT(*) FROM staff_users WHERE email = 'same@clinic.it'",
	                          ""),
	             0);
	cr_assert_eq(n, 1);
}

Test(store_concurrency, conditional_update_changes_one_row)
{
	int64_t patient = 0, inv = 0, now = now_utc();
	const unsigned char h[32] = {7};
	cr_assert_eq(store_insert(fx_conn, &patient,
	                          "INSERT INTO patients (org_id, given_name, family_name, "
	                          "family_key, search_key, search_key_fg) "
	                          "VALUES (?, 'A', 'B', 'b', 'a b', 'b a') RETURNING id",
	                          "i", ORG_A),
	             0);
	cr_assert_eq(store_insert(fx_conn, &inv,
	                          "INSERT INTO invitations (patient_id, portal_id, org_id, "
	                          "token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
	                          "RETURNING id",
	                          "iiibii", patient, PORTAL, ORG_A, (const void *)h, sizeof(h), now,
	                          now + 3600),
	             0);
	/* What accepting a link does: only a pending invitation may change state. */
	struct race r = {
	    .sql = "UPDATE invitations SET state = 'accepted', accepted_at = ? "
	           "WHERE id = ? AND state = 'pending'",
	    .types = "ii",
	    .a = now,
	    .b = inv,
	};
	run_race(&r);
	int won = 0;
	for (int i = 0; i < RACERS; i++) {
		cr_assert_eq(r.rc[i], 0, "racer %d: %s", i, store_strerror(r.rc[i]));
		cr_assert(r.changes[i] == 0 || r.changes[i] == 1);
		won += (int)r.changes[i];
	}
	cr_assert_eq(won, 1, "exactly one acceptance changes the row");
}

Test(store_concurrency, slot_capacity_never_exceeded)
{
	int64_t svc = 0, slot = 0;
	cr_assert_eq(store_insert(fx_conn, &svc,
	                          "INSERT INTO services (org_id, name) VALUES (?, 'Visit') "
	                          "RETURNING id",
	                          "i", ORG_A),
	             0);
	cr_assert_eq(store_insert(fx_conn, &slot,
	                          "INSERT INTO slots (org_id, service_id, start_at, end_at, "
	                          "capacity) VALUES (?, ?, 1000, 2800, 3) RETURNING id",
	                          "ii", ORG_A, svc),
	             0);
	struct race r = {
	    .sql = "UPDATE slots SET booked = booked + 1 WHERE id = ? AND booked < capacity",
	    .types = "i",
	    .a = slot,
	};
	run_race(&r);
	int booked = 0;
	for (int i = 0; i < RACERS; i++) {
		cr_assert_eq(r.rc[i], 0, "racer %d: %s", i, store_strerror(r.rc[i]));
		booked += (int)r.changes[i];
	}
	cr_assert_eq(booked, 3, "capacity 3: three bookings, no more");
	int64_t n = 0;
	cr_assert_eq(store_scalar(fx_conn, &n, "SELECT booked FROM slots WHERE id = ?", "i", slot),
	             0);
	cr_assert_eq(n, 3);
}
