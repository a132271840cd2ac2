/*
 * Tests for cli/import_appointments.c (and booking/import.c under it): a good
 * file (times in the organisation's zone, defaults from the service, a member
 * practice), every reason a row is refused with its physical line, a
 * re-import that changes nothing but a cancellation, and the payment request
 * of an imported video consultation with mandatory payment queued once,
 * however often `invito run-due` runs after it.
 *
 * Runs on SQLite, and on PostgreSQL under scripts/pg-test.sh (store fixture):
 *   scripts/pg-test.sh build/unit-tests --filter 'import_appointments/<test>'
 */
#include "../store/fixture.h"

#include "child.h"

#include "booking/booking.h"
#include "booking/tz.h"
#include "cli/cli.h"
#include "cli/import.h"
#include "config.h"
#include "lib/arena.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>

static char dir[64];
static char errbuf[16384];
static FILE *errs;
static int64_t P1, P2, PB, SVC_VIDEO, SVC_VISIT, SVC_B, MEMBER, PORTAL2;

static int64_t add_patient(int64_t org, const char *ref, const char *mobile)
{
	struct store_patient p = {.org_id = org,
	                          .given_name = "Giulia",
	                          .family_name = "Rossi",
	                          .mobile = (char *)mobile,
	                          .lang = "it",
	                          .external_ref = (char *)ref};
	cr_assert_eq(store_patient_add(fx_conn, &p), 0);
	return p.id;
}

static int64_t add_service(int64_t org, const char *name, const char *kind, const char *pay,
                           int64_t price)
{
	int64_t id = 0;
	cr_assert_eq(store_insert(fx_conn, &id,
	                          "INSERT INTO services (org_id, name, duration_min, kind, "
	                          "price_cents, payment) VALUES (?, ?, 20, ?, ?, ?) RETURNING id",
	                          "ittit", org, name, kind, price, pay),
	             0);
	return id;
}

static void setup(void)
{
	fx_setup();
	snprintf(dir, sizeof(dir), "/tmp/invito-impappt-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	P1 = add_patient(ORG_A, "PAT-1", "+393330000001");
	P2 = add_patient(ORG_A, "PAT-2", "+393330000002");
	PB = add_patient(ORG_B, "PAT-B", "+393330000003");
	SVC_VIDEO = add_service(ORG_A, "Televisita", "video", "mandatory", 8000);
	SVC_VISIT = add_service(ORG_A, "Visita", "in_person", "none", 0);
	SVC_B = add_service(ORG_B, "Altro", "in_person", "none", 0);
	cr_assert_eq(store_insert(fx_conn, &PORTAL2,
	                          "INSERT INTO portals (name, base_url) VALUES ('Rete', "
	                          "'https://rete.example') RETURNING id",
	                          ""),
	             0);
	cr_assert_eq(store_insert(fx_conn, &MEMBER,
	                          "INSERT INTO organisations (kind, portal_id, parent_id, name) "
	                          "VALUES ('member', ?, ?, 'Poliambulatorio Nord') RETURNING id",
	                          "ii", PORTAL2, ORG_A),
	             0);
	memset(errbuf, 0, sizeof(errbuf));
	errs = fmemopen(errbuf, sizeof(errbuf), "w");
	cr_assert_not_null(errs);
}

static void teardown(void)
{
	char cmd[128];
	if (errs != NULL)
		fclose(errs);
	errs = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	fx_teardown();
}

TestSuite(import_appointments, .init = setup, .fini = teardown);

static const char *csv_file(const char *name, const char *text)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
	return path;
}

static const char *errors(void)
{
	fflush(errs);
	return errbuf;
}

static int run_import(const char *path, struct import_report *rep)
{
	memset(errbuf, 0, sizeof(errbuf));
	rewind(errs);
	int rc = import_appointments_csv(fx_store, ORG_A, path, rep, errs);
	fflush(errs);
	return rc;
}

static int64_t scalar(const char *sql, const char *ref)
{
	int64_t n = -1;
	int rc = ref != NULL ? store_scalar(fx_conn, &n, sql, "t", ref)
	                     : store_scalar(fx_conn, &n, sql, "");
	cr_assert_eq(rc, 0, "%s: %d", sql, rc);
	return n;
}

static int64_t utc_of(const char *zone, int y, int mo, int d, int h, int mi)
{
	struct tz_local l = {.year = y, .month = mo, .day = d, .hour = h, .minute = mi};
	int64_t t = 0;
	cr_assert_geq(tz_local_to_utc(zone, &l, &t), 0);
	return t;
}

#define GOOD                                                                                       \
	"external_ref,patient,service,start,duration_min,end,kind,payment,amount,member,"          \
	"status\r\n"                                                                               \
	"A-1,PAT-1,Televisita,2030-03-05T09:30,,,video,mandatory,45.00,,booked\r\n"                \
	"A-2,PAT-2,Visita,2030-07-01 15:00,,2030-07-01 15:45,,,,,\r\n"                             \
	"A-3,PAT-1,Televisita,2030-03-06T10:00,30,,,,,Poliambulatorio Nord,\r\n"

Test(import_appointments, good_file_imports_every_row)
{
	struct import_report rep;
	cr_assert_eq(run_import(csv_file("good.csv", GOOD), &rep), 0, "%s", errors());
	cr_assert_eq(rep.imported, 3, "%s", errors());
	cr_assert_eq(rep.rejected, 0);
	cr_assert_eq(rep.present, 0);
	cr_assert_eq(rep.lines, 4);
	cr_assert_str_eq(errors(), "");

	/* local time in Rome: CET in March, CEST in July */
	cr_assert_eq(scalar("SELECT start_at FROM appointments WHERE external_ref = ?", "A-1"),
	             utc_of("Europe/Rome", 2030, 3, 5, 9, 30));
	cr_assert_eq(scalar("SELECT start_at FROM appointments WHERE external_ref = ?", "A-1"),
	             utc_of("UTC", 2030, 3, 5, 8, 30));
	cr_assert_eq(
	    scalar("SELECT end_at - start_at FROM appointments WHERE external_ref = ?", "A-1"),
	    20 * 60, "the service's duration");
	cr_assert_eq(scalar("SELECT start_at FROM appointments WHERE external_ref = ?", "A-2"),
	             utc_of("UTC", 2030, 7, 1, 13, 0));
	cr_assert_eq(
	    scalar("SELECT end_at - start_at FROM appointments WHERE external_ref = ?", "A-2"),
	    45 * 60);
	cr_assert_eq(scalar("SELECT amount_cents FROM appointments WHERE external_ref = ?", "A-1"),
	             4500);
	/* defaults from the service: A-3 is a video consultation with mandatory 80.00 */
	cr_assert_eq(scalar("SELECT amount_cents FROM appointments WHERE external_ref = ?", "A-3"),
	             8000);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE external_ref = ? AND "
	                    "kind = 'video' AND payment = 'mandatory'",
	                    "A-3"),
	             1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE external_ref = ? AND "
	                    "kind = 'in_person' AND payment = 'none' AND amount_cents = 0",
	                    "A-2"),
	             1);
	int64_t member = scalar("SELECT org_id FROM appointments WHERE external_ref = ?", "A-3");
	cr_assert_eq(member, MEMBER);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE booked_via = 'import' AND "
	                    "status = 'booked'",
	                    NULL),
	             3);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM audit_events WHERE action = "
	                    "'appointment.import'",
	                    NULL),
	             3);

	/* both video consultations with mandatory payment got their request, at once */
	cr_assert_eq(rep.queued, 2);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages m JOIN appointments a ON a.id = "
	                    "m.appointment_id WHERE m.kind = 'payment_request' AND "
	                    "a.external_ref IN ('A-1', 'A-3')",
	                    NULL),
	             2);
	/* the member's appointment: the invitation is for the portal the member is on */
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT COUNT(*) FROM invitations WHERE patient_id = %lld AND portal_id = %lld",
	         (long long)P1, (long long)PORTAL2);
	cr_assert_eq(scalar(sql, NULL), 1);
	snprintf(sql, sizeof(sql),
	         "SELECT COUNT(*) FROM messages m JOIN appointments a ON a.id = m.appointment_id "
	         "WHERE a.external_ref = 'A-3' AND m.body LIKE '%%https://rete.example/i/%%'");
	cr_assert_eq(scalar(sql, NULL), 1);
}

Test(import_appointments, every_bad_row_is_reported_with_its_line_and_reason)
{
	const char *text =
	    "external_ref,patient,service,start,end,duration_min,kind,payment,amount,member,"
	    "status\n"
	    "B-1,NOBODY,Visita,2030-03-05T09:30,,,,,,,\n"                /* 2 */
	    "B-2,PAT-1,Massaggio,2030-03-05T09:30,,,,,,,\n"              /* 3 */
	    "B-3,PAT-1,Visita,2030-02-30T09:30,,,,,,,\n"                 /* 4 */
	    "B-4,PAT-1,Visita,05/03/2030 09:30,,,,,,,\n"                 /* 5 */
	    "B-5,PAT-1,Visita,2030-03-05T09:30,2030-03-05T09:00,,,,,,\n" /* 6 */
	    "B-6,PAT-1,Televisita,2030-03-05T09:30,,,,,45 euro,,\n"      /* 7 */
	    "B-7,PAT-1,Visita,2030-03-05T09:30,,,phone,,,,\n"            /* 8 */
	    "B-8,PAT-1,Visita,2030-03-05T09:30,,,,later,,,\n"            /* 9 */
	    "B-9,PAT-1,Visita,2030-03-05T09:30,,,,,,,maybe\n"            /* 10 */
	    ",PAT-1,Visita,2030-03-05T09:30,,,,,,,\n"                    /* 11 */
	    "B-11,PAT-B,Visita,2030-03-05T09:30,,,,,,,\n"                /* 12: another clinic's */
	    "B-12,PAT-1,Altro,2030-03-05T09:30,,,,,,,\n"                 /* 13: another clinic's */
	    "B-13,PAT-1,Visita,2030-03-05T09:30,,,,,,Altrove,\n"         /* 14 */
	    "B-14,PAT-1,Visita,2030-03-31T02:30,,,,,,,\n"                /* 15: clocks go forward */
	    "B-15,PAT-1,Visita,2030-03-05T09:30,,0,,,,,\n"               /* 16 */
	    "B-16,PAT-1,Visita,2030-03-05T09:30,,,,mandatory,0,,\n"      /* 17 */
	    "B-17,PAT-1,Visita,2030-03-05T09:30,\"2030-03-05\n09:45\",,,,,,\n" /* 18-19 */
	    "OK-1,PAT-2,Visita,2030-03-05T11:00,,,,,,,\n"                      /* 20: good */
	    "B-18,PAT-1,Visita,2030-03-05T09:30,,,,\n"                         /* 21 */
	    "OK-2,PAT-2,Visita,2030-03-05T12:00,,,,,,,\n";                     /* 22: good */
	struct import_report rep;
	cr_assert_eq(run_import(csv_file("bad.csv", text), &rep), 0, "%s", errors());
	static const char *const want[] = {
	    ":2: patient: unknown patient",
	    ":3: service: unknown service",
	    ":4: start: bad date",
	    ":5: start: bad date",
	    ":6: end: end before start",
	    ":7: amount: amount is not a number",
	    ":8: kind: kind must be in_person or video",
	    ":9: payment: payment must be none, optional or mandatory",
	    ":10: status: status must be booked or cancelled",
	    ":11: external_ref: missing external_ref",
	    ":12: patient: unknown patient",
	    ":13: service: unknown service",
	    ":14: member: unknown member",
	    ":15: start: bad date: this local time does not exist",
	    ":16: duration_min: duration_min is not a number",
	    ":17: amount: amount must be more than 0",
	    ":18: end: bad date",
	    ":21: 8 fields, but the header has 11 columns",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_not_null(strstr(errors(), want[i]), "missing \"%s\" in:\n%s", want[i],
		                   errors());
	cr_assert_eq(rep.rejected, (int64_t)(sizeof(want) / sizeof(want[0])), "%s", errors());
	cr_assert_eq(rep.imported, 2);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", NULL), 2);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE external_ref LIKE ?", "OK-%"),
	             2);
}

Test(import_appointments, missing_column_stops_at_the_header)
{
	struct import_report rep;
	int rc =
	    run_import(csv_file("h.csv", "external_ref,patient,service\nX,PAT-1,Visita\n"), &rep);
	cr_assert_eq(rc, IMPORT_ERR_HEADER);
	cr_assert_not_null(strstr(errors(), ":1: missing column start"), "%s", errors());
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", NULL), 0);
}

Test(import_appointments, reimport_changes_nothing_but_a_cancellation)
{
	struct import_report rep;
	const char *path = csv_file("good.csv", GOOD);
	cr_assert_eq(run_import(path, &rep), 0);
	cr_assert_eq(rep.imported, 3);
	cr_assert_eq(run_import(path, &rep), 0);
	cr_assert_eq(rep.imported, 0);
	cr_assert_eq(rep.present, 3);
	cr_assert_eq(rep.queued, 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments", NULL), 3);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages WHERE kind = 'payment_request'", NULL),
	             2);

	/* a changed time is not applied (the clinic's system re-books with a new ref); a
	 * cancellation is, once */
	const char *later = "external_ref,patient,service,start,status\n"
	                    "A-1,PAT-1,Televisita,2030-03-05T09:30,cancelled\n"
	                    "A-2,PAT-2,Visita,2030-07-02 15:00,booked\n";
	cr_assert_eq(run_import(csv_file("later.csv", later), &rep), 0, "%s", errors());
	cr_assert_eq(rep.cancelled, 1);
	cr_assert_eq(rep.present, 1);
	cr_assert_eq(
	    scalar("SELECT status = 'cancelled' FROM appointments WHERE external_ref = ?", "A-1"),
	    1);
	cr_assert_eq(scalar("SELECT start_at FROM appointments WHERE external_ref = ?", "A-2"),
	             utc_of("UTC", 2030, 7, 1, 13, 0));
	cr_assert_eq(run_import(csv_file("later.csv", later), &rep), 0);
	cr_assert_eq(rep.cancelled, 0);
	cr_assert_eq(rep.present, 2);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM audit_events WHERE action = "
	                    "'appointment.cancel'",
	                    NULL),
	             1);
	/* a cancelled row that was never imported is kept as cancelled, and asks nothing */
	cr_assert_eq(run_import(csv_file("c.csv", "external_ref,patient,service,start,status\n"
	                                          "C-1,PAT-1,Televisita,2030-04-01T09:00,"
	                                          "cancelled\n"),
	                        &rep),
	             0);
	cr_assert_eq(rep.imported, 1);
	cr_assert_eq(rep.queued, 0);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM appointments WHERE external_ref = ? AND "
	                    "status = 'cancelled'",
	                    "C-1"),
	             1);
}

/* `invito run-due` (cli_run_due) in a child process on the test's database. */
static void run_due(void)
{
	char *argv[] = {"run-due", NULL};
	pid_t pid = cli_child_start(cli_run_due, argv, NULL, NULL);
	int status = 0;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "run-due: %d", status);
}

Test(import_appointments, payment_request_once_after_run_due_twice, .timeout = 60)
{
	struct import_report rep;
	const char *one = "external_ref,patient,service,start,kind,payment,amount\n"
	                  "T-1,PAT-1,Televisita,2030-03-05T09:30,video,mandatory,45.00\n"
	                  "T-2,PAT-2,Visita,2030-03-05T10:30,in_person,optional,20\n";
	cr_assert_eq(run_import(csv_file("t.csv", one), &rep), 0, "%s", errors());
	cr_assert_eq(rep.imported, 2);
	cr_assert_eq(rep.queued, 1);
	run_due();
	run_due();
	cr_assert_eq(run_import(csv_file("t.csv", one), &rep), 0);
	run_due();
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages m JOIN appointments a ON a.id = "
	                    "m.appointment_id WHERE m.kind = 'payment_request' AND "
	                    "a.external_ref = ?",
	                    "T-1"),
	             1);
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages WHERE kind = 'payment_request'", NULL),
	             1, "nothing for the in-person appointment with optional payment");

	/* an imported row whose request was not queued at import (a crash between the two) is
	 * caught up by run-due, once */
	cr_assert_eq(store_exec(fx_conn, NULL,
	                        "INSERT INTO appointments (patient_id, org_id, service_id, "
	                        "start_at, end_at, kind, booked_via, payment, amount_cents, "
	                        "external_ref, created_at) VALUES (?, ?, ?, ?, ?, 'video', "
	                        "'import', 'mandatory', 4500, 'T-3', 0)",
	                        "iiiii", P2, ORG_A, SVC_VIDEO, utc_of("UTC", 2030, 4, 1, 8, 0),
	                        utc_of("UTC", 2030, 4, 1, 8, 30)),
	             0);
	run_due();
	run_due();
	cr_assert_eq(scalar("SELECT COUNT(*) FROM messages m JOIN appointments a ON a.id = "
	                    "m.appointment_id WHERE m.kind = 'payment_request' AND "
	                    "a.external_ref = ?",
	                    "T-3"),
	             1);
}

/* One importer of the race below: ref at the customer (member NULL) or at MEMBER. */
struct racer {
	const char *ref, *member;
	pthread_barrier_t *start;
	int rc, outcome;
};

static void *race_import(void *arg)
{
	struct racer *r = arg;
	struct store_conn *c = store_acquire(fx_store);
	struct arena *a = arena_create();
	struct booking_import_row row = {.external_ref = r->ref,
	                                 .patient = "PAT-1",
	                                 .service = "Visita",
	                                 .start = "2030-05-06T10:00",
	                                 .member = r->member};
	struct booking_import_source src = {.via = "api", .api_key_id = 0, .ip = NULL};
	struct booking_import_result res;
	pthread_barrier_wait(r->start);
	r->rc = booking_import(c, ORG_A, &row, &src, 1800000000, &res, a);
	r->outcome = (int)res.outcome;
	arena_free(a);
	store_release(c);
	return NULL;
}

Test(import_appointments, one_ref_imported_at_once_at_two_places_is_written_once, .timeout = 120)
{
	/* The unique key is (place, ref): two importers sending one ref, one at the
	 * customer and one at its member, must still write one appointment. */
	for (int round = 0; round < 20; round++) {
		char ref[32];
		snprintf(ref, sizeof(ref), "RACE-%d", round);
		pthread_barrier_t start;
		pthread_barrier_init(&start, NULL, 2);
		struct racer r[2] = {{ref, NULL, &start, -1, 0},
		                     {ref, "Poliambulatorio Nord", &start, -1, 0}};
		pthread_t t[2];
		for (int i = 0; i < 2; i++)
			cr_assert_eq(pthread_create(&t[i], NULL, race_import, &r[i]), 0);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&start);
		cr_assert_eq(r[0].rc, 0, "round %d: %d", round, r[0].rc);
		cr_assert_eq(r[1].rc, 0, "round %d: %d", round, r[1].rc);
		cr_assert_eq(
		    scalar("SELECT COUNT(*) FROM appointments WHERE external_ref = ?", ref), 1,
		    "round %d", round);
		cr_assert_eq(r[0].outcome + r[1].outcome,
		             BOOKING_IMPORT_CREATED + BOOKING_IMPORT_PRESENT, "round %d", round);
	}
}
