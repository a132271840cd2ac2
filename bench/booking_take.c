/*
 * bench/booking_take: what does booking_take_slot cost next to the bare
 * insert it ends in? Books N slots (default 10,000) one by one through
 * booking_take_slot (a patient booking online: patient and slot checks,
 * the conditional UPDATE, the appointment INSERT, one transaction each),
 * and, in the same run on the same database, N bare appointment INSERTs,
 * each in its own transaction too. Prints both and their ratio: ratios, not
 * milliseconds, are what to compare between machines.
 *
 * Build and run (from the repository root):
 *   make B=build/booking build/booking/libinvito.a
 *   cc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/booking_take.c build/booking/libinvito.a \
 *     $(pkg-config --libs libmicrohttpd sqlite3 libsodium libutf8proc libcurl jansson libpq) \
 *     -lcsv -lzxcvbn -lpthread -o build/booking/bench-booking-take
 *   build/booking/bench-booking-take [N] [postgresql://URL]
 * Without a URL it works on a new SQLite file in a new temporary directory
 * (WAL, synchronous=FULL as in production). With a URL it adds its own
 * portal, organisation and rows to that database and leaves them there: give
 * it a throwaway one (e.g. under scripts/pg-test.sh, using $INVITO_TEST_PG).
 * It must never touch a database it was not given or did not create.
 */
#include "booking/booking.h"
#include "lib/util.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIE_IF(cond, what)                                                                         \
	do {                                                                                       \
		if (cond)                                                                          \
			die("bench: %s failed", what);                                             \
	} while (0)

/* One pass: N fresh slots from `from`, timed bare inserts, then timed bookings. */
static void pass(struct store_conn *c, const char *label, int64_t org, int64_t svc, int64_t portal,
                 int64_t patient, int64_t now, int64_t from, int64_t *slots, int64_t n)
{
	int64_t t0 = from - from % 1800;
	/* N slots, 30 minutes apart, in one transaction (setup, not timed). */
	DIE_IF(store_begin(c) != 0, "begin");
	for (int64_t i = 0; i < n; i++)
		DIE_IF(store_insert(
		           c, &slots[i],
		           "INSERT INTO slots (org_id, service_id, start_at, end_at, capacity) "
		           "VALUES (?, ?, ?, ?, 1) RETURNING id",
		           "iiii", org, svc, t0 + i * 1800, t0 + i * 1800 + 1800) != 0,
		       "slot");
	DIE_IF(store_commit(c) != 0, "commit");

	/* Baseline: the bare appointment INSERT, one transaction each. */
	int64_t b0 = now_ms();
	for (int64_t i = 0; i < n; i++) {
		DIE_IF(store_begin(c) != 0, "begin");
		DIE_IF(store_exec(
		           c, NULL,
		           "INSERT INTO appointments (patient_id, org_id, service_id, start_at, "
		           "end_at, booked_via, created_at, updated_at) VALUES (?, ?, ?, ?, ?, "
		           "'online', ?, ?)",
		           "iiiiiii", patient, org, svc, t0 + i * 1800, t0 + i * 1800 + 1800, now,
		           now) != 0,
		       "bare insert");
		DIE_IF(store_commit(c) != 0, "commit");
	}
	int64_t base_ms = now_ms() - b0;

	/* booking_take_slot for every slot. */
	struct booking_actor who = {.portal_id = portal, .patient_id = patient};
	struct booking_request r = {
	    .patient_id = patient, .kind = -1, .payment = -1, .amount_cents = -1, .now = now};
	struct booking_appointment ap;
	int64_t k0 = now_ms();
	for (int64_t i = 0; i < n; i++) {
		r.slot_id = slots[i];
		int rc = booking_take_slot(c, &who, &r, &ap);
		if (rc != 0)
			die("bench: booking %lld: %s", (long long)i, booking_strerror(rc));
	}
	int64_t take_ms = now_ms() - k0;
	/* Every slot is now full: one more booking must be refused. */
	r.slot_id = slots[0];
	DIE_IF(booking_take_slot(c, &who, &r, &ap) != BOOKING_TAKEN, "full slot refused");

	printf("[%s]\n", label);
	printf("  bare insert      %8lld ms  %8.1f us/op\n", (long long)base_ms,
	       base_ms * 1000.0 / (double)n);
	printf("  booking_take     %8lld ms  %8.1f us/op\n", (long long)take_ms,
	       take_ms * 1000.0 / (double)n);
	printf("  ratio take/bare  %8.2f\n", base_ms > 0 ? (double)take_ms / (double)base_ms : 0.0);
}

int main(int argc, char **argv)
{
	int64_t n = 10000;
	char dir[] = "/tmp/invito-bench-XXXXXX";
	char url[512];
	int own_file = argc < 3;
	if (argc > 1 && parse_i64(argv[1], 1, 10000000, &n) != 0)
		die("usage: %s [N] [database URL]", argv[0]);
	if (own_file) {
		DIE_IF(mkdtemp(dir) == NULL, "mkdtemp");
		snprintf(url, sizeof(url), "%s/bench.db", dir);
	} else {
		snprintf(url, sizeof(url), "%s", argv[2]);
	}
	struct store *st = NULL;
	DIE_IF(store_open(&st, url, 2) != 0, "store_open");
	struct store_conn *c = store_acquire(st);
	int64_t portal, org, svc, patient, now = now_utc();
	DIE_IF(store_insert(c, &portal,
	                    "INSERT INTO portals (name, base_url) VALUES ('Bench', "
	                    "'https://bench.example') RETURNING id",
	                    "") != 0,
	       "portal");
	DIE_IF(store_insert(c, &org,
	                    "INSERT INTO organisations (kind, portal_id, name) VALUES ('customer', "
	                    "?, 'Bench clinic') RETURNING id",
	                    "i", portal) != 0,
	       "organisation");
	DIE_IF(store_insert(c, &svc,
	                    "INSERT INTO services (org_id, name) VALUES (?, 'Visit') RETURNING id",
	                    "i", org) != 0,
	       "service");
	DIE_IF(store_insert(c, &patient,
	                    "INSERT INTO patients (org_id, given_name, family_name, family_key, "
	                    "search_key, search_key_fg) VALUES (?, 'Bench', 'Patient', 'patient', "
	                    "'bench patient', 'patient bench') RETURNING id",
	                    "i", org) != 0,
	       "patient");
	int64_t *slots = xcalloc((size_t)n, sizeof(*slots));
	printf("backend %s, %lld bookings per pass\n", store_backend_name(st), (long long)n);
	pass(c, "as configured", org, svc, portal, patient, now, now + 86400, slots, n);
	if (strcmp(store_backend_name(st), "sqlite") == 0) {
		/* Without an fsync per commit, what the code itself costs shows. */
		DIE_IF(store_exec(c, NULL, "PRAGMA synchronous = OFF", "") != 0, "pragma");
		pass(c, "synchronous=OFF", org, svc, portal, patient, now,
		     now + 86400 + n * 1800 + 86400, slots, n);
	}
	free(slots);
	store_release(c);
	store_free(st);
	if (own_file) {
		const char *sfx[] = {"", "-wal", "-shm"};
		char p[600];
		for (size_t i = 0; i < 3; i++) {
			snprintf(p, sizeof(p), "%s%s", url, sfx[i]);
			unlink(p);
		}
		rmdir(dir);
	}
	return 0;
}
